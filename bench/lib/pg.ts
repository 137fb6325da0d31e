/**
 * PostgreSQL databases of the bench's own: created from the admin URL, migrated, and dropped (with
 * force) afterwards, even on failure. Override the admin URL with BENCH_PG_ADMIN_URL.
 */
import { randomBytes } from "node:crypto";
import pg from "pg";
import { assertNotInterrupted, onCleanup } from "./cleanup";

export const ADMIN_URL = process.env.BENCH_PG_ADMIN_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";

export function databaseUrl(name: string): string {
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

/**
 * A connected client. An idle client whose connection ends (its database dropped at cleanup, the
 * server restarting) emits "error"; without a listener that would end the bench mid-cleanup.
 */
export async function connectClient(url: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url });
  client.on("error", () => undefined);
  await client.connect();
  return client;
}

async function admin<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = await connectClient(ADMIN_URL);
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

export interface BenchDatabase {
  name: string;
  url: string;
  /** Drops the database now (also done at cleanup if not called). */
  drop(): Promise<void>;
}

/** A new, migrated database named `waha_bench_<label>_<random>`. */
export async function createBenchDatabase(label: string): Promise<BenchDatabase> {
  assertNotInterrupted(`database ${label}`);
  const name = `waha_bench_${label.replace(/[^a-z0-9]/gi, "_").toLowerCase()}_${randomBytes(4).toString("hex")}`;
  await admin((client) => client.query(`create database ${name}`));
  const drop = onCleanup(`drop database ${name}`, () =>
    admin((client) => client.query(`drop database if exists ${name} with (force)`)).then(() => undefined),
  );
  const url = databaseUrl(name);
  try {
    const { migrateDatabase, openDatabase } = await import("~/server/db/client");
    const database = await openDatabase({ databaseUrl: url, maxConnections: 2 });
    try {
      await migrateDatabase(database);
    } finally {
      await database.close();
    }
    await checkpoint();
  } catch (error) {
    await drop();
    throw error;
  }
  return { name, url, drop };
}

/**
 * Writes every dirty page now. Earlier measurements (bulk seeds, dropped databases) leave PostgreSQL
 * with dirty buffers and WAL to flush; a checkpoint falling inside the next measurement slowed its
 * commits several times over (seen here: 0.4 ms per message alone, 1.6 ms right after other runs).
 */
export async function checkpoint(): Promise<void> {
  await admin((client) => client.query("checkpoint"));
}

export async function postgresVersion(): Promise<string> {
  try {
    return await admin(async (client) => {
      const { rows } = await client.query<{ server_version: string }>("show server_version");
      return rows[0]?.server_version ?? "unknown";
    });
  } catch (error) {
    return `unreachable (${error instanceof Error ? error.message : String(error)})`;
  }
}

/** Databases left by an earlier bench that was killed before its cleanup could run. */
export async function leftoverDatabases(): Promise<string[]> {
  try {
    return await admin(async (client) => {
      const { rows } = await client.query<{ datname: string }>("select datname from pg_database where datname like 'waha_bench_%'");
      return rows.map((row) => row.datname);
    });
  } catch {
    return [];
  }
}
