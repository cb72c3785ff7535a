import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { readFile } from "node:fs/promises";

import internals from "@prisma/internals";

// The SQL migrations are written by hand, so this test compares them with
// schema.prisma through its DMMF (parsed by Prisma's WebAssembly schema
// parser): every model must be a
// table, every scalar field a column of a matching type and nullability, and
// every enum a PostgreSQL enum with the same values.

const SCALAR_TYPES: Record<string, string[]> = {
  String: ["text"],
  Int: ["integer"],
  Float: ["double precision"],
  Boolean: ["boolean"],
  DateTime: ["timestamp with time zone"],
  Json: ["jsonb"],
  Bytes: ["bytea"],
  Decimal: ["numeric"],
};

type Column = { data_type: string; udt_name: string; is_nullable: string };

let client: pg.Client;
const dmmf = await internals.getDMMF({
  datamodel: await readFile("prisma/schema.prisma", "utf8"),
});
const columns = new Map<string, Map<string, Column>>();

beforeAll(async () => {
  client = new pg.Client({ connectionString: process.env.DATABASE_URL });
  await client.connect();
  const { rows } = await client.query<Column & { table_name: string; column_name: string }>(
    `SELECT table_name, column_name, data_type, udt_name, is_nullable
     FROM information_schema.columns WHERE table_schema = 'public'`,
  );
  for (const row of rows) {
    if (!columns.has(row.table_name)) columns.set(row.table_name, new Map());
    columns.get(row.table_name)!.set(row.column_name, row);
  }
});

afterAll(async () => {
  await client.end();
});

describe("schema drift", () => {
  const models = dmmf.datamodel.models;

  it("finds models to compare", () => {
    expect(models.length).toBeGreaterThan(5);
  });

  for (const model of models) {
    const table = model.dbName ?? model.name;

    it(`${model.name} matches table ${table}`, () => {
      const tableColumns = columns.get(table);
      expect(tableColumns, `table ${table} missing`).toBeDefined();

      for (const field of model.fields) {
        if (field.kind === "object") continue;
        const columnName = field.dbName ?? field.name;
        const column = tableColumns!.get(columnName);
        expect(column, `column ${table}.${columnName} missing`).toBeDefined();

        // Prisma's own migrations create scalar lists without NOT NULL.
        const nullable = column!.is_nullable === "YES";
        expect(nullable, `nullability of ${table}.${columnName}`).toBe(
          field.isList || !field.isRequired,
        );

        if (field.isList) {
          expect(column!.data_type, `${table}.${columnName}`).toBe("ARRAY");
        } else if (field.kind === "enum") {
          expect(column!.udt_name, `${table}.${columnName}`).toBe(field.type);
        } else {
          expect(SCALAR_TYPES[field.type], `${table}.${columnName}`).toContain(
            column!.data_type,
          );
        }
      }

      const fieldColumns = new Set(
        model.fields
          .filter((field) => field.kind !== "object")
          .map((field) => field.dbName ?? field.name),
      );
      const extra = [...tableColumns!.keys()].filter(
        (name) => !fieldColumns.has(name),
      );
      expect(extra, `columns of ${table} not in schema.prisma`).toEqual([]);
    });
  }

  for (const enumType of dmmf.datamodel.enums) {
    it(`enum ${enumType.name} matches`, async () => {
      const { rows } = await client.query<{ label: string }>(
        `SELECT e.enumlabel AS label FROM pg_enum e
         JOIN pg_type t ON t.oid = e.enumtypid
         WHERE t.typname = $1 ORDER BY e.enumsortorder`,
        [enumType.name],
      );
      expect(rows.map((row) => row.label)).toEqual(
        enumType.values.map((value) => value.name),
      );
    });
  }

  it("has no table without a model", () => {
    const modelTables = new Set(models.map((model) => model.dbName ?? model.name));
    const extra = [...columns.keys()].filter(
      (table) => !modelTables.has(table) && table !== "_prisma_migrations",
    );
    expect(extra).toEqual([]);
  });
});
