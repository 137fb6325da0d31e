/**
 * A failed query never puts row values in a log line: drizzle's `params`, the "params: ..." its
 * message and stack embed, PostgreSQL's `detail` ("Key (phone)=(...) already exists") and messages
 * that quote a value ("invalid input syntax for type uuid: ...") are all dropped by the `err`
 * serializer, on both backends, and the app's real root logger uses it.
 */
import { spawnSync } from "node:child_process";
import { Writable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { campaignRecipients, contacts, workspaces } from "~/server/db/schema";
import { createLogger, safeErrorSerializer } from "~/server/logger";
import { AppError } from "~/server/services/errors";
import { backends, createTestDatabase, type TestDatabase } from "../helpers/db";

const PHONE = "+4915112345678";
const DIGITS = "15112345678";

/** A logger with the app's options whose output is kept, one string per line. */
function capturedLogger() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(...chunk.toString("utf8").split("\n").filter(Boolean));
      done();
    },
  });
  return { log: createLogger(destination, { level: "info" }).child({ component: "test" }), lines };
}

async function failure(run: () => Promise<unknown>): Promise<unknown> {
  try {
    await run();
  } catch (error) {
    return error;
  }
  throw new Error("the query was expected to fail");
}

for (const backend of backends) {
  describe(`[${backend}] logging a failed query`, () => {
    let database: TestDatabase;
    let workspaceId: string;
    beforeAll(async () => {
      database = await createTestDatabase(backend);
      const [workspace] = await database.db.insert(workspaces).values({ name: "logs" }).returning();
      workspaceId = workspace!.id;
      await database.db.insert(contacts).values({ workspaceId, phone: PHONE, firstName: "Erika" });
    });
    afterAll(async () => {
      await database?.close();
    });

    it("a unique violation logs the SQL and the constraint, not the phone number or the name", async () => {
      const error = await failure(() => database.db.insert(contacts).values({ workspaceId, phone: PHONE, firstName: "Erika" }));
      // The raw error does hold the values: this is what the serializer has to remove.
      expect(JSON.stringify({ message: (error as Error).message, params: (error as { params: unknown }).params })).toContain(PHONE);

      const { log, lines } = capturedLogger();
      log.error({ err: error }, "query failed");
      expect(lines).toHaveLength(1);
      const line = lines[0]!;
      expect(line).not.toContain(DIGITS);
      expect(line).not.toContain("Erika");
      const logged = JSON.parse(line) as { err: { type: string; message: string; stack: string; query?: string; params?: unknown } };
      expect(logged.err.type).toBe("DrizzleQueryError");
      expect(logged.err.message).toMatch(/^Failed query: insert into "contacts"/);
      expect(logged.err.message).toContain("params: [redacted]");
      expect(logged.err.message).toContain("contacts_workspace_phone_unique");
      expect(logged.err.params).toBeUndefined();
      expect(logged.err.stack).toContain("params: [redacted]");

      // The driver's own error, logged alone (as the tRPC error hook does with `cause`), holds no value either.
      log.error({ err: (error as Error).cause }, "driver error");
      expect(lines).toHaveLength(2);
      expect(lines[1]).toContain("contacts_workspace_phone_unique");
      expect(lines[1]).not.toContain(DIGITS);
      expect(lines[1]).not.toContain("Erika");

      // Wrapped as the cause of another error: its text is in the message and stack of the wrapper.
      log.error({ err: new AppError("INTERNAL", "could not save the contact", undefined, { cause: error }) }, "wrapped");
      expect(lines).toHaveLength(3);
      expect(lines[2]).toContain("could not save the contact");
      expect(lines[2]).toContain("Failed query");
      expect(lines[2]).not.toContain(DIGITS);
      expect(lines[2]).not.toContain("Erika");
    });

    it("a value quoted in PostgreSQL's message is dropped too", async () => {
      const error = await failure(() =>
        database.db.insert(campaignRecipients).values({ campaignId: PHONE, position: 0, phone: PHONE, chatId: `${DIGITS}@c.us`, renderedText: "Hi Erika" }),
      );
      const { log, lines } = capturedLogger();
      log.error({ err: error }, "query failed");
      log.warn({ err: (error as Error).message }, "only the message was logged");
      expect(lines).toHaveLength(2);
      for (const line of lines) {
        expect(line).not.toContain(DIGITS);
        expect(line).not.toContain("Erika");
      }
      expect(lines[0]).toMatch(/invalid input syntax for type uuid: \\"\[redacted\]\\"/);
    });
  });
}

describe("the app's logger", () => {
  it("leaves errors without row values as they are", () => {
    const serialized = safeErrorSerializer(new Error("WAHA answered 503")) as { type: string; message: string; stack: string };
    expect(serialized).toMatchObject({ type: "Error", message: "WAHA answered 503" });
    expect(serialized.stack).toContain("WAHA answered 503");
  });

  it("prints a failed query without its phone number on the real root logger's stdout", () => {
    const result = spawnSync(process.execPath, ["--import", "tsx", "tests/foundation/fixtures/logFailedQuery.ts", PHONE], {
      env: { ...process.env, LOG_LEVEL: "info", NODE_ENV: "production" },
      encoding: "utf8",
      timeout: 60_000,
    });
    expect(result.status, result.stderr).toBe(0);
    const line = result.stdout.split("\n").find((text) => text.includes("query failed"));
    expect(line, result.stdout).toBeDefined();
    expect(line).toContain("DrizzleQueryError");
    expect(line).toContain("params: [redacted]");
    expect(result.stdout).not.toContain(DIGITS);
    expect(result.stdout).not.toContain("Mustermann");
  });
});
