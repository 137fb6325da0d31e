import { mkdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import v8 from "node:v8";
import { PGlite } from "@electric-sql/pglite";
import type { SQL } from "drizzle-orm";
import type { PgDatabase, PgQueryResultHKT } from "drizzle-orm/pg-core";
import { drizzle as drizzlePglite } from "drizzle-orm/pglite";
import { migrate as migratePglite } from "drizzle-orm/pglite/migrator";
import { drizzle as drizzlePg } from "drizzle-orm/node-postgres";
import { migrate as migratePg } from "drizzle-orm/node-postgres/migrator";
import pg from "pg";
import * as schema from "./schema";

/** The Drizzle API both backends share; services are written against this alone. */
export type Db = PgDatabase<PgQueryResultHKT, typeof schema>;

export type DatabaseKind = "pglite" | "postgres";

export interface Database {
  db: Db;
  kind: DatabaseKind;
  /** Set on PostgreSQL: other processes (pg-boss, a worker) connect with it. */
  url: string | null;
  /** Set on PGlite: the single embedded connection (pg-boss's adapter needs it). */
  pglite: PGlite | null;
  close(): Promise<void>;
}

export const migrationsFolder = path.join(path.dirname(fileURLToPath(import.meta.url)), "migrations");

export interface OpenDatabaseOptions {
  /** PostgreSQL URL; when absent, an embedded PGlite database is used. */
  databaseUrl?: string | null;
  /** Folder for PGlite's files (`<dataDir>/pglite`); absent = in memory (tests). */
  dataDir?: string | null;
  /** node-postgres pool size. */
  maxConnections?: number;
}

export async function openDatabase(options: OpenDatabaseOptions): Promise<Database> {
  if (options.databaseUrl) {
    const pool = new pg.Pool({ connectionString: options.databaseUrl, max: options.maxConnections ?? 10 });
    // An idle client that loses its connection must not crash the process.
    pool.on("error", () => undefined);
    const db = drizzlePg(pool, { schema }) as unknown as Db;
    return { db, kind: "postgres", url: options.databaseUrl, pglite: null, close: () => pool.end() };
  }
  // PGlite is PostgreSQL compiled to WebAssembly. V8 compiles it quickly (Liftoff), then again,
  // optimised, function by function (TurboFan): the second compiler's memory stays with the process
  // (~70–140 MB measured). Without it PGlite sends about a fifth slower at delay 0, nothing at a real
  // pace (docs/performance.md, "Big campaigns"). Read when a module is compiled: set before the first PGlite.
  v8.setFlagsFromString("--liftoff-only");
  // PostgreSQL's default 128 MB of shared buffers lives in PGlite's WebAssembly memory, filled at
  // start: 16 MB keeps an idle app near 300 MB instead of 460 MB, at no cost measured (docs/performance.md).
  const startParams = [...PGlite.defaultStartParams, "-c", "shared_buffers=16MB"];
  let pglite: PGlite;
  if (options.dataDir) {
    const dir = path.resolve(options.dataDir, "pglite");
    // PGlite fails with ENOENT when the parent folder is missing.
    mkdirSync(dir, { recursive: true });
    pglite = await PGlite.create(dir, { startParams });
  } else {
    pglite = await PGlite.create({ startParams });
  }
  const db = drizzlePglite(pglite, { schema }) as unknown as Db;
  return { db, kind: "pglite", url: null, pglite, close: () => pglite.close() };
}

/** Applies the committed migrations; safe when several processes start at once on PostgreSQL. */
export async function migrateDatabase(database: Database): Promise<void> {
  if (database.pglite) {
    await migratePglite(drizzlePglite(database.pglite), { migrationsFolder });
    return;
  }
  const client = new pg.Client({ connectionString: database.url! });
  await client.connect();
  try {
    // One migrator at a time: a second process waits, then finds nothing left to apply.
    await client.query("select pg_advisory_lock(727274)");
    await migratePg(drizzlePg(client), { migrationsFolder });
  } finally {
    await client.query("select pg_advisory_unlock(727274)").catch(() => undefined);
    await client.end();
  }
}

/** Raw SQL rows on either backend (both drivers answer with `{ rows }`). */
export async function queryRows<T>(db: Db, query: SQL): Promise<T[]> {
  const result = (await db.execute(query)) as unknown as { rows: T[] };
  return result.rows;
}
