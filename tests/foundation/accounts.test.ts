import { spawnSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { TRPCError } from "@trpc/server";
import { eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createCaller } from "~/server/api/root";
import type { SessionCookieJar } from "~/server/api/trpc";
import { openDatabase } from "~/server/db/client";
import { parseEnv } from "~/env";
import { apiKeys, authSessions, users } from "~/server/db/schema";
import { callerFromApiKey, callerFromSessionToken, sha256 } from "~/server/services/auth";
import { backends } from "../helpers/db";
import { startTestApp, type TestApp } from "../helpers/app";

function jar(): SessionCookieJar & { value: string | null } {
  return {
    token: null,
    value: null,
    set(token) {
      this.value = token;
    },
    clear() {
      this.value = null;
    },
  };
}

for (const backend of backends) {
  describe(`[${backend}] accounts`, () => {
    let app: TestApp;
    beforeAll(async () => {
      app = await startTestApp(backend, { SIGNUP: "open" });
    });
    afterAll(async () => {
      await app?.close();
    });

    it("signs up, sets a session cookie, and the cookie identifies the user", async () => {
      const cookies = jar();
      const anonymous = createCaller({ services: app.services, caller: null, cookies });
      const user = await anonymous.auth.signUp({ email: "Owner@Example.com", password: "long enough password" });
      expect(user.email).toBe("owner@example.com");
      expect(cookies.value).toBeTruthy();
      const caller = await callerFromSessionToken(app.services.db, cookies.value!);
      expect(caller?.workspaceId).toBe(user.workspaceId);
      const [row] = await app.services.db.select().from(users).where(eq(users.email, "owner@example.com"));
      expect(row!.passwordHash).not.toContain("long enough password");
    });

    it("refuses a second account with the same email, and a wrong password", async () => {
      const anonymous = createCaller({ services: app.services, caller: null, cookies: jar() });
      await anonymous.auth.signUp({ email: "twice@example.com", password: "long enough password" });
      await expect(anonymous.auth.signUp({ email: "twice@example.com", password: "another password" })).rejects.toMatchObject({
        code: "CONFLICT",
      });
      const error = await anonymous.auth.logIn({ email: "twice@example.com", password: "wrong password" }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(TRPCError);
      expect((error as TRPCError).code).toBe("UNAUTHORIZED");
      expect((error as TRPCError).message).toBe("Wrong email or password");
    });

    it("rejects a too-short password with a message naming the rule", async () => {
      const anonymous = createCaller({ services: app.services, caller: null, cookies: jar() });
      await expect(anonymous.auth.signUp({ email: "short@example.com", password: "short" })).rejects.toThrow(
        /at least 8 characters/,
      );
    });

    it("logs out: the old cookie no longer works", async () => {
      const cookies = jar();
      const anonymous = createCaller({ services: app.services, caller: null, cookies });
      await anonymous.auth.signUp({ email: "leaving@example.com", password: "long enough password" });
      const token = cookies.value!;
      const caller = await callerFromSessionToken(app.services.db, token);
      const loggedIn = createCaller({ services: app.services, caller, cookies: { ...jar(), token } });
      await loggedIn.auth.logOut();
      expect(await callerFromSessionToken(app.services.db, token)).toBeNull();
    });

    it("a used session keeps its last_seen_at current (written at most once a minute); an expired one is refused", async () => {
      const cookies = jar();
      const anonymous = createCaller({ services: app.services, caller: null, cookies });
      const user = await anonymous.auth.signUp({ email: "seen@example.com", password: "long enough password" });
      await app.services.db.update(authSessions).set({ lastSeenAt: sql`now() - interval '2 hours'` }).where(eq(authSessions.userId, user.id));
      expect(await callerFromSessionToken(app.services.db, cookies.value!)).toMatchObject({ userId: user.id });
      const [seen] = await app.services.db.select().from(authSessions).where(eq(authSessions.userId, user.id));
      expect(Date.now() - seen!.lastSeenAt.getTime()).toBeLessThan(60_000);
      await app.services.db.update(authSessions).set({ expiresAt: sql`now() - interval '1 second'` }).where(eq(authSessions.userId, user.id));
      expect(await callerFromSessionToken(app.services.db, cookies.value!)).toBeNull();
    });

    it("API keys are stored hashed, shown once, and stop working when revoked", async () => {
      const cookies = jar();
      const anonymous = createCaller({ services: app.services, caller: null, cookies });
      await anonymous.auth.signUp({ email: "keys@example.com", password: "long enough password" });
      const caller = await callerFromSessionToken(app.services.db, cookies.value!);
      const trpc = createCaller({ services: app.services, caller, cookies: null });
      const created = await trpc.apiKey.create({ name: "Zapier" });
      const [stored] = await app.services.db.select().from(apiKeys).where(eq(apiKeys.id, created.record.id));
      expect(stored!.keyHash).toBe(sha256(created.key));
      expect(JSON.stringify(await trpc.apiKey.list())).not.toContain(created.key);
      expect(await callerFromApiKey(app.services.db, created.key)).toMatchObject({ workspaceId: caller!.workspaceId });
      await trpc.apiKey.revoke({ id: created.record.id });
      expect(await callerFromApiKey(app.services.db, created.key)).toBeNull();
    });
  });
}

describe("admin CLI and first-run bootstrap", () => {
  it("create-user makes a user with an API key in the PGlite of DATA_DIR, and refuses bad input", async () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), "waha-cli-"));
    const env = { ...process.env, DATA_DIR: dataDir, DATABASE_URL: "" };
    const ok = spawnSync(
      process.execPath,
      ["--import", "tsx", "src/worker/cli.ts", "create-user", "--email", "cli@example.com", "--password", "cli password 1", "--api-key", "cli-key-0123456789abcdef"],
      { env, encoding: "utf8", timeout: 60_000 },
    );
    expect(ok.stderr).toBe("");
    expect(ok.stdout).toContain("Created user cli@example.com");
    const bad = spawnSync(process.execPath, ["--import", "tsx", "src/worker/cli.ts", "create-user", "--email", "nope", "--password", "x"], {
      env,
      encoding: "utf8",
      timeout: 60_000,
    });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain("--email: Enter a valid email address");
    const database = await openDatabase({ dataDir });
    try {
      expect(await callerFromApiKey(database.db, "cli-key-0123456789abcdef")).not.toBeNull();
    } finally {
      await database.close();
    }
    // Two child processes, each compiling the CLI and migrating a fresh PGlite: slow on a loaded machine.
  }, 150_000);

  it("BOOTSTRAP_* creates the first user and key once, and only when no user exists", async () => {
    const app = await startTestApp(backends[0]!, {
      BOOTSTRAP_ADMIN_EMAIL: "admin@example.com",
      BOOTSTRAP_ADMIN_PASSWORD: "admin password",
      BOOTSTRAP_API_KEY: "bootstrap-key-0123456789",
    });
    try {
      const response = await fetch(`${app.url}/api/v1/health`);
      expect(response.status).toBe(200);
      expect(await callerFromApiKey(app.services.db, "bootstrap-key-0123456789")).not.toBeNull();
      const all = await app.services.db.select().from(users);
      expect(all.map((user) => user.email)).toEqual(["admin@example.com"]);
    } finally {
      await app.close();
    }
  });
});

describe("SIGNUP and QUOTA_*", () => {
  it("SIGNUP is open by default only in sandbox mode, invite with a real WAHA, and a set value wins", async () => {
    for (const [env, expected] of [
      [{ WAHA_URL: "" }, "open"],
      [{}, "invite"],
      [{ SIGNUP: "closed", WAHA_URL: "" }, "closed"],
    ] as const) {
      const app = await startTestApp(backends[0]!, env, { initializeScheduler: false });
      try {
        expect(app.services.sandbox).toBe(env.WAHA_URL === "");
        expect(app.services.signupMode).toBe(expected);
      } finally {
        await app.close();
      }
    }
  });

  it("bad values stop start-up naming the variable; the quota defaults are 10 numbers, 100,000 contacts, 500 MB", () => {
    expect(() => parseEnv({ SIGNUP: "everyone" })).toThrow(/SIGNUP must be "open" \(anyone\), "invite"/);
    expect(() => parseEnv({ QUOTA_NUMBERS: "-1" })).toThrow(/QUOTA_NUMBERS must be 0 or more/);
    expect(() => parseEnv({ QUOTA_MEDIA_BYTES: "lots" })).toThrow(/QUOTA_MEDIA_BYTES must be a whole number of bytes/);
    expect(parseEnv({})).toMatchObject({ QUOTA_NUMBERS: 10, QUOTA_CONTACTS: 100_000, QUOTA_MEDIA_BYTES: 500 * 1024 * 1024 });
    expect(parseEnv({}).SIGNUP).toBeUndefined();
  });
});
