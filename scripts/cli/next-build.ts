import { spawn, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { readdir, readFile, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";

import { logger } from "@/lib/logger";

import { CliError } from "./output";

// Builds the Next.js app when no build exists or when its sources changed
// since the last build. The stamp file in the build folder stores a SHA-256
// over the paths and contents of every source file the build reads.

const require = createRequire(import.meta.url);

export const NEXT_BIN = require.resolve("next/dist/bin/next");
export const STAMP_FILE = "vigil-source-hash";

const SOURCE_DIRS = ["app", "components", "lib", "public"];
const SOURCE_FILES = [
  "next.config.js",
  "postcss.config.js",
  "tailwind.config.ts",
  "tailwind.config.js",
  "tsconfig.json",
  "package-lock.json",
  "prisma/schema.prisma",
];
// Generated from prisma/schema.prisma, which is hashed instead.
const SKIPPED_DIRS = new Set(["lib/generated"]);

export function distDir(root: string): string {
  return path.resolve(root, process.env.VIGIL_NEXT_DIST_DIR || ".next");
}

async function listFiles(root: string, relative: string): Promise<string[]> {
  const absolute = path.join(root, relative);
  if (!existsSync(absolute) || SKIPPED_DIRS.has(relative)) return [];
  const entries = await readdir(absolute, { withFileTypes: true });
  const files: string[] = [];
  for (const entry of entries) {
    const child = path.posix.join(relative, entry.name);
    if (entry.isDirectory()) files.push(...(await listFiles(root, child)));
    else if (entry.isFile()) files.push(child);
  }
  return files;
}

/** Returns the SHA-256 (hex) of the build's source files under root. */
export async function sourceHash(root: string): Promise<string> {
  const files: string[] = [];
  for (const dir of SOURCE_DIRS) files.push(...(await listFiles(root, dir)));
  for (const file of SOURCE_FILES) {
    if (existsSync(path.join(root, file))) files.push(file);
  }
  files.sort();

  const hash = createHash("sha256");
  for (const file of files) {
    hash.update(`${file}\0`);
    hash.update(await readFile(path.join(root, file)));
    hash.update("\0");
  }
  return hash.digest("hex");
}

/** Returns why a build is needed, or undefined when the last one is current. */
export async function buildReason(
  root: string,
  hash: string,
): Promise<string | undefined> {
  const dir = distDir(root);
  if (!existsSync(path.join(dir, "BUILD_ID"))) return "no build exists";
  const stampFile = path.join(dir, STAMP_FILE);
  if (!existsSync(stampFile)) return "the build has no source stamp";
  const stamp = (await readFile(stampFile, "utf8")).trim();
  if (stamp !== hash) return "sources changed since the last build";
  return undefined;
}

/** Runs `next build` with the terminal attached, then writes the stamp. */
export async function buildNextApp(
  root: string,
  env: NodeJS.ProcessEnv,
  onSpawn?: (child: ChildProcess) => void,
): Promise<void> {
  const started = Date.now();
  const code = await new Promise<number | null>((resolve, reject) => {
    const child = spawn(process.execPath, [NEXT_BIN, "build"], {
      cwd: root,
      env,
      stdio: "inherit",
    });
    onSpawn?.(child);
    child.once("error", reject);
    child.once("exit", (exitCode) => resolve(exitCode));
  });
  if (code !== 0) {
    throw new CliError(
      `next build failed with exit code ${code}; see its output above.`,
    );
  }
  // next build may rewrite tsconfig.json (it adds the build folder's type
  // paths), so the stamp is the hash after the build.
  const builtHash = await sourceHash(root);
  await writeFile(path.join(distDir(root), STAMP_FILE), `${builtHash}\n`);
  logger.info({ ms: Date.now() - started }, "built the web app");
}
