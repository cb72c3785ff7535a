import { readdir, readFile } from "node:fs/promises";
import path from "node:path";

import { parse as parseYaml } from "yaml";

import { apiErrorMap, formatFieldPath } from "@/lib/api/validation";
import { getPool } from "@/lib/db";
import { withTransaction } from "@/lib/ingest/transaction";
import { logger } from "@/lib/logger";
import {
  contentKey,
  runbookBodySchema,
  runbookFieldsSchema,
  slugSchema,
  type RunbookContent,
} from "@/lib/runbooks/content";
import {
  createRunbook,
  findLatestVersionBy,
  findRunbookBySlug,
  saveRunbookVersion,
  type VersionAuthor,
} from "@/lib/runbooks/versions";

// The runbook library that ships with Vigil: data/runbooks/*.md, each a
// Markdown body under YAML front matter with the match rules (services,
// metricPattern glob, labels, alertNames globs, severities), executable
// steps and the automatic flag. The start command syncs it by slug on every
// start, so edits to the files reach existing installs as new versions.

export const RUNBOOK_DIR = path.resolve(process.cwd(), "data/runbooks");

const frontMatterSchema = runbookFieldsSchema
  .extend({ slug: slugSchema })
  .strict();

export type LibraryRunbook = RunbookContent & { slug: string };

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

  const result = frontMatterSchema.safeParse(data ?? {}, {
    error: apiErrorMap,
  });
  if (!result.success) {
    const problems = result.error.issues.map((issue) => {
      // An unknown key's issue has the object's path and lists the keys.
      const path =
        issue.code === "unrecognized_keys"
          ? [...issue.path, issue.keys.join(", ")]
          : issue.path;
      return `${formatFieldPath(path) || "front matter"}: ${issue.message}`;
    });
    throw new RunbookFormatError(
      `${file}: invalid front matter (${problems.join("; ")})`,
    );
  }

  const body = runbookBodySchema.safeParse(match[2]!);
  if (!body.success) {
    throw new RunbookFormatError(
      `${file}: the Markdown body ${body.error.issues[0]!.message}`,
    );
  }
  return { ...result.data, body: body.data };
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

/** Author of the versions that library sync stores. */
export const LIBRARY_AUTHOR: VersionAuthor = {
  type: "system",
  id: null,
  name: "runbook library",
};

export type LibrarySyncResult = {
  created: number;
  updated: number;
  unchanged: number;
};

/**
 * Syncs the library's runbooks by slug in one transaction. A new slug
 * creates a runbook. A file whose content differs from the version the
 * library last stored adds a version, so an admin's later edit of an
 * unchanged file is kept. Archived runbooks and runbooks that users added
 * with other slugs are left alone.
 */
export async function upsertRunbooks(
  runbooks?: LibraryRunbook[],
): Promise<LibrarySyncResult> {
  const library = runbooks ?? (await loadRunbookLibrary());
  const result = await withTransaction(getPool(), async (client) => {
    const counts: LibrarySyncResult = { created: 0, updated: 0, unchanged: 0 };
    for (const { slug, ...content } of library) {
      const existing = await findRunbookBySlug(client, slug, { lock: true });
      if (!existing) {
        await createRunbook(client, slug, content, LIBRARY_AUTHOR, "runbook library file");
        counts.created += 1;
        continue;
      }
      if (existing.archivedAt !== null) {
        counts.unchanged += 1;
        continue;
      }
      const lastSynced = await findLatestVersionBy(
        client,
        existing.id,
        LIBRARY_AUTHOR.type,
        LIBRARY_AUTHOR.name,
      );
      const baseline = lastSynced?.content ?? existing.content;
      if (existing.currentVersion !== null && contentKey(baseline) === contentKey(content)) {
        counts.unchanged += 1;
        continue;
      }
      const saved = await saveRunbookVersion(
        client,
        existing,
        content,
        LIBRARY_AUTHOR,
        "runbook library file changed",
      );
      if (saved.changed) counts.updated += 1;
      else counts.unchanged += 1;
    }
    return counts;
  });
  logger.info(result, "runbook library synced");
  return result;
}
