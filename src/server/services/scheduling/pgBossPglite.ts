import type { PGlite } from "@electric-sql/pglite";
import type PgBoss from "pg-boss";

/**
 * pg-boss on the embedded database: pg-boss talks to PostgreSQL only through `db.executeSql`.
 * With parameters a statement is single (`query`); without, pg-boss may send several statements
 * at once, including its own `BEGIN ... COMMIT` (schema creation, maintenance under an advisory
 * lock), which PGlite runs atomically only as one `exec` string. A failure part-way leaves that
 * transaction open on PGlite's single connection, so it is rolled back before the error is rethrown.
 */
export function pgliteExecutor(pglite: PGlite): PgBoss.Db {
  return {
    async executeSql(text: string, values?: unknown[]) {
      if (values && values.length > 0) {
        const result = await pglite.query(text, values);
        return { rows: result.rows as unknown[] };
      }
      try {
        const results = await pglite.exec(text);
        return { rows: (results.at(-1)?.rows ?? []) as unknown[] };
      } catch (error) {
        await pglite.exec("ROLLBACK").catch(() => undefined);
        throw error;
      }
    },
  };
}
