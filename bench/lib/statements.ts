/**
 * Counts the SQL statements a piece of code sends, at the driver: node-postgres `Client#query`
 * (which `Pool#query` and Drizzle's transactions both go through) and PGlite's `query` / `exec` /
 * `transaction` (a transaction counts its BEGIN and COMMIT too, as on PostgreSQL). Counted per
 * statement shape, with the mean time to its answer, so a report can say which statements a
 * message costs and how long each takes.
 */
import type { PGlite, Transaction } from "@electric-sql/pglite";
import pg from "pg";

export class StatementCounter {
  total = 0;
  readonly byShape = new Map<string, { count: number; totalMs: number }>();

  /** Counts a statement; the returned function, called when its answer came, adds the time it took. */
  begin(text: unknown): () => void {
    this.total++;
    const shape = shapeOf(text);
    let entry = this.byShape.get(shape);
    if (!entry) {
      entry = { count: 0, totalMs: 0 };
      this.byShape.set(shape, entry);
    }
    entry.count++;
    const stats = entry;
    const started = performance.now();
    let done = false;
    return () => {
      if (done) return;
      done = true;
      stats.totalMs += performance.now() - started;
    };
  }

  /** Counts a statement, timed until `pending` settles when it is a promise. */
  record(text: unknown, pending?: unknown): void {
    const done = this.begin(text);
    if (pending instanceof Promise) pending.then(done, done);
  }

  reset(): void {
    this.total = 0;
    this.byShape.clear();
  }

  /** The most frequent shapes, most frequent first, with their mean time. */
  top(limit = 12): Array<{ shape: string; count: number; meanMs: number }> {
    return [...this.byShape.entries()]
      .map(([shape, entry]) => ({ shape, count: entry.count, meanMs: Math.round((entry.totalMs / entry.count) * 1000) / 1000 }))
      .sort((a, b) => b.count - a.count)
      .slice(0, limit);
  }
}

/** A statement's first words, whitespace collapsed, literals (inlined parameters) replaced by `?`. */
function shapeOf(text: unknown): string {
  const raw = typeof text === "string" ? text : typeof text === "object" && text && "text" in text ? String((text as { text: unknown }).text) : String(text);
  return raw
    .replace(/'(?:[^']|'')*'/g, "?")
    .replace(/\b\d+(?:\.\d+)?\b/g, "?")
    .replace(/\s+/g, " ")
    .trim()
    .slice(0, 90);
}

/** Counts every statement of every node-postgres client in this process until the returned function is called. */
export function countPostgres(counter: StatementCounter): () => void {
  const prototype = pg.Client.prototype as unknown as { query: (...args: unknown[]) => unknown };
  const original = prototype.query;
  prototype.query = function (this: unknown, ...args: unknown[]) {
    const done = counter.begin(args[0]);
    // Pool#query passes a callback; Drizzle's transactions await a promise.
    const callback = args[args.length - 1];
    if (typeof callback === "function") {
      args[args.length - 1] = function (this: unknown, ...answer: unknown[]) {
        done();
        return (callback as (...a: unknown[]) => unknown).apply(this, answer);
      };
    }
    const result = original.apply(this, args);
    if (result instanceof Promise) result.then(done, done);
    return result;
  };
  return () => {
    prototype.query = original;
  };
}

/** Counts every statement sent through this PGlite instance until the returned function is called. */
export function countPglite(pglite: PGlite, counter: StatementCounter): () => void {
  const target = pglite as unknown as Record<"query" | "exec" | "transaction", (...args: unknown[]) => Promise<unknown>>;
  const originals = { query: target.query, exec: target.exec, transaction: target.transaction };
  target.query = function (this: unknown, ...args: unknown[]) {
    const result = originals.query.apply(pglite, args);
    counter.record(args[0], result);
    return result;
  };
  target.exec = function (this: unknown, ...args: unknown[]) {
    const result = originals.exec.apply(pglite, args);
    counter.record(args[0], result);
    return result;
  };
  target.transaction = function (this: unknown, ...args: unknown[]) {
    const callback = args[0] as (tx: Transaction) => Promise<unknown>;
    counter.record("BEGIN");
    return originals.transaction
      .call(pglite, async (tx: Transaction) => {
        const wrapped = Object.create(tx) as Transaction;
        wrapped.query = ((text: string, ...rest: unknown[]) => {
          const result = (tx.query as (...a: unknown[]) => unknown)(text, ...rest);
          counter.record(text, result);
          return result;
        }) as Transaction["query"];
        wrapped.exec = ((text: string, ...rest: unknown[]) => {
          const result = (tx.exec as (...a: unknown[]) => unknown)(text, ...rest);
          counter.record(text, result);
          return result;
        }) as Transaction["exec"];
        return callback(wrapped);
      })
      .finally(() => counter.record("COMMIT"));
  };
  return () => {
    target.query = originals.query;
    target.exec = originals.exec;
    target.transaction = originals.transaction;
  };
}
