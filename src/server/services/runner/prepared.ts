import { createHash } from "node:crypto";
import { type SQL, sql } from "drizzle-orm";
import { type Db, queryRows } from "~/server/db/client";

export type ParamType = "uuid" | "text" | "int" | "boolean";
export type ParamValue = string | number | boolean | null;

/*
 * Rows from the drivers differ (int8 and timestamps are strings on node-postgres, numbers and Dates
 * on PGlite): the runner's queries cast what they return to int, float8, text or boolean.
 */

/**
 * A statement on the send loop's hot path, planned once per connection and reused: planning the
 * runner's CTE statements costs several times their execution (measured on PGlite: ~1 ms vs ~0.3 ms).
 * `text` uses $1..$n, whose types are `types`.
 */
export interface PreparedStatement {
  name: string;
  text: string;
  types: ParamType[];
}

export function preparedStatement(label: string, text: string, types: ParamType[]): PreparedStatement {
  const hash = createHash("sha1").update(text).update(types.join(",")).digest("hex").slice(0, 12);
  return { name: `wc_${label}_${hash}`, text, types };
}

interface PgliteLike {
  query(text: string, params?: unknown[]): Promise<{ rows: unknown[] }>;
  exec(text: string): Promise<unknown>;
  waitReady: Promise<void>;
}
interface NodePgLike {
  query(config: { name: string; text: string; values: unknown[] }): Promise<{ rows: unknown[] }>;
  connect(): unknown;
}

const preparedOnPglite = new WeakMap<object, Set<string>>();

/**
 * node-postgres: a named statement (the driver parses it once per pooled connection).
 * PGlite: its `query` always uses the unnamed statement and cannot bind parameters to `EXECUTE`, so
 * the statement is `PREPARE`d once on its single connection and run with `EXECUTE name(literal, ...)`;
 * each literal is typed by the PREPARE and quoted here (see `literal`).
 * Anything else: plain `execute`.
 */
export async function runPrepared<T>(db: Db, statement: PreparedStatement, params: ParamValue[]): Promise<T[]> {
  if (params.length !== statement.types.length) throw new Error(`${statement.name}: expected ${statement.types.length} parameters`);
  const client = (db as unknown as { $client?: unknown }).$client;
  if (isPglite(client)) {
    let prepared = preparedOnPglite.get(client);
    if (!prepared) {
      prepared = new Set();
      preparedOnPglite.set(client, prepared);
    }
    const execute = `execute ${statement.name}(${params.map((value, index) => literal(value, statement.types[index]!)).join(", ")})`;
    if (prepared.has(statement.name)) {
      try {
        return (await client.query(execute)).rows as T[];
      } catch (error) {
        // Deallocated behind our back (DEALLOCATE ALL / DISCARD ALL): prepare it again.
        if (pgCode(error) !== "26000") throw error;
        prepared.delete(statement.name);
      }
    }
    try {
      await client.exec(`prepare ${statement.name} (${statement.types.join(", ")}) as ${statement.text}`);
    } catch (error) {
      // Already prepared on this connection by another copy of this module (e.g. another bundle).
      if (pgCode(error) !== "42P05") throw error;
    }
    prepared.add(statement.name);
    return (await client.query(execute)).rows as T[];
  }
  if (isNodePg(client)) {
    const result = await client.query({ name: statement.name, text: statement.text, values: params });
    return result.rows as T[];
  }
  const chunks: SQL[] = [];
  const parts = statement.text.split(/\$(\d+)/);
  for (let i = 0; i < parts.length; i++) {
    if (i % 2 === 0) chunks.push(sql.raw(parts[i]!));
    else chunks.push(sql`${params[Number(parts[i]) - 1] ?? null}`);
  }
  return queryRows<T>(db, sql.join(chunks));
}

/**
 * A SQL literal for EXECUTE. Strings become standard string literals (quotes doubled; PostgreSQL has
 * `standard_conforming_strings` on, so backslashes are plain characters); the PREPARE's parameter
 * types do the casting. Numbers must be finite integers.
 */
function literal(value: ParamValue, type: ParamType): string {
  if (value === null) return "null";
  switch (type) {
    case "int":
      if (typeof value !== "number" || !Number.isSafeInteger(value)) throw new Error(`not an integer: ${String(value)}`);
      return String(value);
    case "boolean":
      if (typeof value !== "boolean") throw new Error(`not a boolean: ${String(value)}`);
      return value ? "true" : "false";
    default: {
      const text = String(value);
      if (text.includes("\u0000")) throw new Error("a text parameter contains a NUL character");
      return `'${text.replace(/'/g, "''")}'`;
    }
  }
}

function pgCode(error: unknown): unknown {
  return typeof error === "object" && error !== null ? (error as { code?: unknown }).code : undefined;
}

function isPglite(client: unknown): client is PgliteLike {
  return (
    typeof client === "object" &&
    client !== null &&
    typeof (client as PgliteLike).exec === "function" &&
    typeof (client as PgliteLike).query === "function" &&
    "waitReady" in client
  );
}

function isNodePg(client: unknown): client is NodePgLike {
  return typeof client === "object" && client !== null && typeof (client as NodePgLike).query === "function" && typeof (client as NodePgLike).connect === "function";
}
