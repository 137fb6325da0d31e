/**
 * Runs once per `vitest run`: migrates a template database per backend, so each test file can get
 * a clean, migrated database in a fraction of a second (see tests/helpers/db.ts); and finds the
 * Chromium of the browser journey (tests/e2e/chromium.ts). REQUIRE_BROWSER_JOURNEY=1 (set by .ci/run)
 * turns a missing Chromium into a failed run instead of a skipped journey.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import pg from "pg";
import type { TestProject } from "vitest/node";
import { migrateDatabase, openDatabase } from "../src/server/db/client";
import { ENABLE_JOURNEY_HINT, resolveChromium } from "./e2e/chromium";

declare module "vitest" {
  export interface ProvidedContext {
    pgliteTemplatePath: string;
    postgresTemplateDb: string | null;
    /** The Chromium the browser journey drives, or null with the reason in chromiumMissing. */
    chromiumPath: string | null;
    chromiumMissing: string | null;
  }
}

export function adminUrl(url: string, database = "postgres"): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

function provideChromium(project: TestProject) {
  const chromium = resolveChromium();
  if (!chromium.path && process.env.REQUIRE_BROWSER_JOURNEY === "1") {
    throw new Error(`REQUIRE_BROWSER_JOURNEY=1 but the browser journey cannot run: ${chromium.reason}. Fix: ${ENABLE_JOURNEY_HINT}`);
  }
  project.provide("chromiumPath", chromium.path);
  project.provide("chromiumMissing", chromium.reason);
}

export default async function setup(project: TestProject) {
  provideChromium(project);
  const dir = path.resolve("test-data");
  mkdirSync(dir, { recursive: true });
  const template = await openDatabase({});
  await migrateDatabase(template);
  const dump = await template.pglite!.dumpDataDir("none");
  const pgliteTemplatePath = path.join(dir, `pglite-template-${process.pid}.tar`);
  writeFileSync(pgliteTemplatePath, Buffer.from(await dump.arrayBuffer()));
  await template.close();
  project.provide("pgliteTemplatePath", pgliteTemplatePath);

  const url = process.env.TEST_DATABASE_URL;
  let postgresTemplateDb: string | null = null;
  if (url) {
    postgresTemplateDb = `waha_test_template_${process.pid}`;
    const admin = new pg.Client({ connectionString: adminUrl(url) });
    await admin.connect();
    await admin.query(`drop database if exists ${postgresTemplateDb}`);
    await admin.query(`create database ${postgresTemplateDb}`);
    const templateDb = await openDatabase({ databaseUrl: adminUrl(url, postgresTemplateDb), maxConnections: 1 });
    await migrateDatabase(templateDb);
    await templateDb.close();
    await admin.end();
  }
  project.provide("postgresTemplateDb", postgresTemplateDb);

  return async () => {
    if (url && postgresTemplateDb) {
      const admin = new pg.Client({ connectionString: adminUrl(url) });
      await admin.connect();
      await admin.query(`drop database if exists ${postgresTemplateDb}`);
      await admin.end();
    }
  };
}
