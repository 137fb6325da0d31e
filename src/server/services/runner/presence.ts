/**
 * A process's presence, so that its campaigns are taken over at once when it dies instead of after
 * their lease runs out. Each process that runs campaigns holds a session-level advisory lock on its
 * holder id (`p:<host>:<pid>:<random>`) for as long as it lives, on a connection of its own
 * (PostgreSQL) or on the embedded database's one connection (PGlite). The lock goes when the process
 * or its connection does. A lease whose holder starts with `p:` and whose lock nobody holds belongs
 * to a dead process: the claim and the sweep take it over without waiting (`holderIsGone`). A live
 * holder, in this process or another, keeps its lease until it expires; holders without `p:` (a
 * runner built without presence) are only ever taken over on expiry.
 *
 * What it does not shortcut: the number's send slot. A dead process's send may still be acted on by
 * WAHA, so the slot is only taken over once it expires (runner/sendSlot.ts).
 */
import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import { type SQL, sql } from "drizzle-orm";
import pg from "pg";
import type { Logger } from "pino";
import type { Database } from "~/server/db/client";

/** The advisory lock's first key: this app's presence locks. */
const PRESENCE_LOCK_SPACE = 7272;

export interface ProcessPresence {
  /** The runners' lease holder id in this process. */
  readonly holderId: string;
  close(): Promise<void>;
}

export async function announcePresence(database: Database, logger: Logger): Promise<ProcessPresence> {
  const holderId = `p:${hostname()}:${process.pid}:${randomBytes(4).toString("hex")}`;
  const lock = `select pg_advisory_lock(${PRESENCE_LOCK_SPACE}, hashtext($1))`;
  if (database.pglite) {
    const pglite = database.pglite;
    await pglite.query(lock, [holderId]);
    return {
      holderId,
      close: async () => {
        if (!pglite.closed) await pglite.query(`select pg_advisory_unlock(${PRESENCE_LOCK_SPACE}, hashtext($1))`, [holderId]);
      },
    };
  }
  const client = new pg.Client({ connectionString: database.url!, application_name: "waha-campaigns-presence" });
  // Losing this connection only loses the fast takeover: another process may take our campaigns over
  // early, which the send slot keeps safe (and our runs stop at their next statement).
  client.on("error", (error) => logger.warn({ err: error.message }, "lost the presence connection; this process's campaigns may be taken over"));
  await client.connect();
  await client.query(lock, [holderId]);
  return { holderId, close: () => client.end().catch(() => undefined) };
}

/**
 * The lease's holder was a process with presence that no longer holds its lock: it is dead. Reading
 * pg_locks copies the lock table, so it is read only for a `p:` holder (never for a campaign without
 * a lease: a NULL would not stop an AND), and at most once per statement (an uncorrelated array).
 */
export function holderIsGone(holder: SQL): SQL {
  return sql`(case when split_part(${holder}, '/', 1) like 'p:%'
    then hashtext(split_part(${holder}, '/', 1))::oid <> all (array(
      select l.objid from pg_locks l
       where l.locktype = 'advisory' and l.granted and l.classid = ${sql.raw(String(PRESENCE_LOCK_SPACE))} and l.objsubid = 2
         and l.database = (select d.oid from pg_database d where d.datname = current_database())))
    else false end)`;
}
