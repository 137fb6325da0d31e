/**
 * A clean, migrated database per test file, on each backend under test:
 * PGlite always; PostgreSQL too when TEST_DATABASE_URL is set (CI sets it).
 */
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { PGlite } from "@electric-sql/pglite";
import { drizzle as drizzlePglite } from "drizzle-orm/pglite";
import pg from "pg";
import { inject } from "vitest";
import { type Database, type DatabaseKind, type Db, openDatabase } from "~/server/db/client";
import * as schema from "~/server/db/schema";
import { adminUrl } from "../globalSetup";

export const backends: DatabaseKind[] = process.env.TEST_DATABASE_URL ? ["pglite", "postgres"] : ["pglite"];

export interface TestDatabase extends Database {
  /** PostgreSQL only: the URL of this file's own database (for child processes). */
  url: string | null;
}

export async function createTestDatabase(kind: DatabaseKind): Promise<TestDatabase> {
  if (kind === "pglite") {
    const blob = new Blob([readFileSync(inject("pgliteTemplatePath"))]);
    const pglite = await PGlite.create({ loadDataDir: blob });
    const db = drizzlePglite(pglite, { schema }) as unknown as Db;
    return { db, kind, url: null, pglite, close: () => pglite.close() };
  }
  const baseUrl = process.env.TEST_DATABASE_URL!;
  const template = inject("postgresTemplateDb");
  if (!template) throw new Error("TEST_DATABASE_URL is set but the PostgreSQL template was not prepared");
  const name = `waha_test_${randomBytes(6).toString("hex")}`;
  const admin = new pg.Client({ connectionString: adminUrl(baseUrl) });
  await admin.connect();
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        await admin.query(`create database ${name} template ${template}`);
        break;
      } catch (error) {
        // Two files cloning the template at the same instant: PostgreSQL refuses one; try again.
        if (attempt >= 10) throw error;
        await new Promise((resolve) => setTimeout(resolve, 100 + Math.random() * 200));
      }
    }
  } finally {
    await admin.end();
  }
  const url = adminUrl(baseUrl, name);
  const database = await openDatabase({ databaseUrl: url, maxConnections: 5 });
  return {
    ...database,
    close: async () => {
      await database.close();
      const cleanup = new pg.Client({ connectionString: adminUrl(baseUrl) });
      await cleanup.connect();
      await cleanup.query(`drop database if exists ${name} with (force)`).catch(() => undefined);
      await cleanup.end();
    },
  };
}
