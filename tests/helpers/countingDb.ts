import type { Db } from "~/server/db/client";

/**
 * The database as a service sees it, with `onCall` told of every call of one of its entry points
 * (`execute` for raw statements, `select` for Drizzle's selects) before it runs: tests count the
 * statements a service sends without a driver of their own.
 */
export function countingDb(db: Db, method: "execute" | "select", onCall: (args: unknown[]) => void): Db {
  return new Proxy(db, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof value !== "function" || property !== method) return value;
      return (...args: unknown[]) => {
        onCall(args);
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
}
