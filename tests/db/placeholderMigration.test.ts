/**
 * Migration 0013 (issue 16, one placeholder syntax): a database as it was before, holding campaigns
 * and templates written with the seed's `{Name}` and a campaign "default name", is migrated; the
 * texts then say the same thing as `{{first_name|<default>}}`, and `default_name` is gone.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { drizzle } from "drizzle-orm/pglite";
import { migrate } from "drizzle-orm/pglite/migrator";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { migrationsFolder } from "~/server/db/client";
import { renderTemplate } from "~/server/services/personalization";
import { adminUrl } from "../globalSetup";
import { backends } from "../helpers/db";

const MIGRATION = "0013_one_placeholder_syntax";

/** A copy of the migrations folder that stops just before `tag`. */
function migrationsBefore(tag: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), "wc-migrations-"));
  mkdirSync(path.join(dir, "meta"));
  const journal = JSON.parse(readFileSync(path.join(migrationsFolder, "meta", "_journal.json"), "utf8")) as { entries: { tag: string }[] };
  const stop = journal.entries.findIndex((entry) => entry.tag === tag);
  if (stop < 0) throw new Error(`${tag} is not in the journal`);
  const entries = journal.entries.slice(0, stop);
  writeFileSync(path.join(dir, "meta", "_journal.json"), JSON.stringify({ ...journal, entries }));
  for (const entry of entries) copyFileSync(path.join(migrationsFolder, `${entry.tag}.sql`), path.join(dir, `${entry.tag}.sql`));
  for (const file of readdirSync(path.join(migrationsFolder, "meta"))) {
    if (file.endsWith("_snapshot.json")) copyFileSync(path.join(migrationsFolder, "meta", file), path.join(dir, "meta", file));
  }
  return dir;
}

/** A raw SQL connection on an empty database of the backend, migrated by a given folder. */
interface RawDatabase {
  query<T>(text: string, params?: unknown[]): Promise<T[]>;
  migrate(folder: string): Promise<void>;
  close(): Promise<void>;
}

async function emptyDatabase(kind: string): Promise<RawDatabase> {
  if (kind === "pglite") {
    const pglite = await PGlite.create();
    return {
      query: async <T,>(text: string, params: unknown[] = []) => (await pglite.query<T>(text, params)).rows,
      migrate: (folder) => migrate(drizzle(pglite), { migrationsFolder: folder }),
      close: () => pglite.close(),
    };
  }
  const name = `waha_mig_${Math.random().toString(16).slice(2, 10)}`;
  const admin = new pg.Client({ connectionString: adminUrl(process.env.TEST_DATABASE_URL!) });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const client = new pg.Client({ connectionString: adminUrl(process.env.TEST_DATABASE_URL!, name) });
  await client.connect();
  const { drizzle: drizzlePg } = await import("drizzle-orm/node-postgres");
  const { migrate: migratePg } = await import("drizzle-orm/node-postgres/migrator");
  return {
    query: async <T,>(text: string, params: unknown[] = []) => (await client.query(text, params)).rows as T[],
    migrate: (folder) => migratePg(drizzlePg(client), { migrationsFolder: folder }),
    close: async () => {
      await client.end();
      const cleanup = new pg.Client({ connectionString: adminUrl(process.env.TEST_DATABASE_URL!) });
      await cleanup.connect();
      await cleanup.query(`drop database if exists ${name} with (force)`).catch(() => undefined);
      await cleanup.end();
    },
  };
}

describe.each(backends)("[%s] migration 0013: one placeholder syntax", (kind) => {
  let database: RawDatabase;
  let before: string;
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    before = migrationsBefore(MIGRATION);
    database = await emptyDatabase(kind);
    await database.migrate(before);
    const [workspace] = await database.query<{ id: string }>(`insert into workspaces (name) values ('old') returning id`);
    const [session] = await database.query<{ id: string }>(
      `insert into whatsapp_sessions (workspace_id, name, waha_session_name) values ($1, 'n', 'wc_old') returning id`,
      [workspace!.id],
    );
    const template = async (name: string, body: string) =>
      (await database.query<{ id: string }>(`insert into templates (workspace_id, name, body) values ($1, $2, $3) returning id`, [workspace!.id, name, body]))[0]!.id;
    const campaign = async (name: string, fields: { text?: string; templateId?: string; defaultName?: string | null; status?: string }) =>
      (
        await database.query<{ id: string }>(
          `insert into campaigns (workspace_id, name, session_id, delay_min_ms, delay_max_ms, scheduled_at, message_text, template_id, default_name, status)
           values ($1, $2, $3, 0, 0, now() + interval '1 day', $4, $5, $6, $7) returning id`,
          [workspace!.id, name, session!.id, fields.text ?? null, fields.templateId ?? null, fields.defaultName ?? null, fields.status ?? "Scheduled"],
        )
      )[0]!.id;
    ids.withDefault = await campaign("with default", { text: "Hi {Name}! {{first_name}}, {{ name }} and {{name|pal}}. {Hi|Hello} {braces}", defaultName: " friend " });
    ids.withoutDefault = await campaign("without default", { text: "Hi { name }, {{first_name}}", defaultName: null });
    ids.oddDefault = await campaign("odd default", { text: "Hi {NAME}", defaultName: "a|b}c\\d" });
    ids.untouched = await campaign("untouched", { text: "Hello {{city|there}}", defaultName: "friend" });
    ids.sharedTemplate = await template("shared", "Dear {Name}, {{first_name}}");
    ids.plainTemplate = await template("plain", "Dear {Name}");
    await campaign("old user", { templateId: ids.sharedTemplate, defaultName: "old", status: "Completed" });
    await campaign("current user", { templateId: ids.sharedTemplate, defaultName: "customer", status: "Scheduled" });
    await campaign("no default user", { templateId: ids.plainTemplate, defaultName: "" });

    await database.migrate(migrationsFolder);
  });
  afterAll(async () => {
    await database?.close();
    if (before) rmSync(before, { recursive: true, force: true });
  });

  it("rewrites a campaign's {Name} and bare name placeholders with its default as the fallback", async () => {
    const text = async (id: string) => (await database.query<{ message_text: string }>(`select message_text from campaigns where id = $1`, [id]))[0]!.message_text;
    expect(await text(ids.withDefault!)).toBe(
      "Hi {{first_name|friend}}! {{first_name|friend}}, {{name|friend}} and {{name|pal}}. {Hi|Hello} {braces}",
    );
    expect(await text(ids.withoutDefault!)).toBe("Hi {{first_name}}, {{first_name}}");
    expect(await text(ids.oddDefault!)).toBe("Hi {{first_name|abcd}}");
    expect(await text(ids.untouched!)).toBe("Hello {{city|there}}");
    // What a nameless contact gets is what the old {Name} with the default gave.
    expect(renderTemplate(await text(ids.withDefault!), { phone: "+1", firstName: null, attributes: {} })).toBe(
      "Hi friend! friend, friend and pal. {Hi|Hello} {braces}",
    );
  });

  it("gives a template the default of the campaign that has not started yet, else none", async () => {
    const body = async (id: string) => (await database.query<{ body: string }>(`select body from templates where id = $1`, [id]))[0]!.body;
    expect(await body(ids.sharedTemplate!)).toBe("Dear {{first_name|customer}}, {{first_name|customer}}");
    expect(await body(ids.plainTemplate!)).toBe("Dear {{first_name}}");
  });

  it("drops campaigns.default_name and leaves no helper function behind", async () => {
    const columns = await database.query<{ column_name: string }>(
      `select column_name from information_schema.columns where table_name = 'campaigns' and column_name = 'default_name'`,
    );
    expect(columns).toEqual([]);
    const functions = await database.query<{ proname: string }>(`select proname from pg_proc where proname = 'wc_fold_default_name'`);
    expect(functions).toEqual([]);
  });
});
