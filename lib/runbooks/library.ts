import { readdir, readFile } from "node:fs/promises";
import path from "node:path";

import { parse as parseYaml } from "yaml";
import { z } from "zod";

import { getPrisma } from "@/lib/db";
import { logger } from "@/lib/logger";

// The runbook library that ships with Vigil: data/runbooks/*.md, each a
// Markdown body under YAML front matter with the match rules (services,
// metricPattern glob, labels). The start command upserts it by slug on
// every start, so edits to the files reach existing installs.

export const RUNBOOK_DIR = path.resolve(process.cwd(), "data/runbooks");

const slugPattern = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;

const frontMatterSchema = z.object({
  slug: z
    .string()
    .regex(slugPattern, { message: "must be lower-case words joined by -" }),
  title: z.string().trim().min(1).max(200),
  services: z
    .array(z.string().regex(slugPattern, { message: "must be a service slug" }))
    .default([]),
  metricPattern: z.string().trim().min(1).nullable().default(null),
  labels: z.record(z.string(), z.string()).default({}),
});

export type LibraryRunbook = z.infer<typeof frontMatterSchema> & {
  body: string;
};

export class RunbookFormatError extends Error {}

const FRONT_MATTER = /^---\r?\n([\s\S]*?)\r?\n---\r?\n?([\s\S]*)$/;

/** Parses one runbook file. `file` names it in error messages. */
export function parseRunbook(text: string, file: string): LibraryRunbook {
  const match = FRONT_MATTER.exec(text);
  if (!match) {
    throw new RunbookFormatError(
      `${file}: missing front matter; the file must start with a --- line and close it with another`,
    );
  }

  let data: unknown;
  try {
    data = parseYaml(match[1]!);
  } catch (error) {
    throw new RunbookFormatError(
      `${file}: front matter is not valid YAML: ${(error as Error).message}`,
    );
  }

  const result = frontMatterSchema.safeParse(data ?? {});
  if (!result.success) {
    const problems = result.error.issues.map(
      (issue) => `${issue.path.join(".") || "front matter"}: ${issue.message}`,
    );
    throw new RunbookFormatError(
      `${file}: invalid front matter (${problems.join("; ")})`,
    );
  }

  const body = match[2]!.trim();
  if (!body)
    throw new RunbookFormatError(`${file}: the Markdown body is empty`);
  return { ...result.data, body };
}

/** Reads and validates every runbook in the folder, in file name order. */
export async function loadRunbookLibrary(
  dir: string = RUNBOOK_DIR,
): Promise<LibraryRunbook[]> {
  const files = (await readdir(dir)).filter((name) => name.endsWith(".md"));
  files.sort();

  const runbooks: LibraryRunbook[] = [];
  const fileBySlug = new Map<string, string>();
  for (const name of files) {
    const runbook = parseRunbook(
      await readFile(path.join(dir, name), "utf8"),
      name,
    );
    const other = fileBySlug.get(runbook.slug);
    if (other) {
      throw new RunbookFormatError(
        `${name}: slug "${runbook.slug}" is already used by ${other}`,
      );
    }
    fileBySlug.set(runbook.slug, name);
    runbooks.push(runbook);
  }
  return runbooks;
}

/**
 * Creates or updates the library's runbooks by slug in one transaction.
 * Runbooks that users added with other slugs are left alone.
 */
export async function upsertRunbooks(
  runbooks?: LibraryRunbook[],
): Promise<{ created: number; updated: number }> {
  const library = runbooks ?? (await loadRunbookLibrary());
  const prisma = getPrisma();

  const existing = await prisma.runbook.findMany({
    where: { slug: { in: library.map((runbook) => runbook.slug) } },
    select: { slug: true },
  });
  await prisma.$transaction(
    library.map((runbook) => {
      const fields = {
        title: runbook.title,
        body: runbook.body,
        services: runbook.services,
        metricPattern: runbook.metricPattern,
        labels: runbook.labels,
      };
      return prisma.runbook.upsert({
        where: { slug: runbook.slug },
        create: { slug: runbook.slug, ...fields },
        update: fields,
      });
    }),
  );

  const updated = existing.length;
  const created = library.length - updated;
  logger.info({ created, updated }, "runbook library upserted");
  return { created, updated };
}
