import { defineConfig } from "prisma/config";

// The URL is only needed by CLI commands that connect (migrate, studio);
// `prisma generate` works without one.
export default defineConfig({
  schema: "prisma/schema.prisma",
  migrations: { path: "prisma/migrations" },
  datasource: { url: process.env.DATABASE_URL ?? "" },
});
