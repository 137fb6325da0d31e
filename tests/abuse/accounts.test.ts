/**
 * Attacks on accounts, sent to a running app over HTTP (issue 12): password guessing (per account,
 * per address, with backoff), a flood of log-ins against scrypt, telling known emails from unknown
 * ones, sign-up when it is closed or by invite only, a sign-up flood, common passwords, idle
 * sessions, and quotas. Each asserts the answer (status, Retry-After, message) and what the
 * database holds afterwards: nothing written by a refused request.
 */
import { randomUUID, scryptSync } from "node:crypto";
import { readdirSync } from "node:fs";
import path from "node:path";
import { and, count, eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { authSessions, authThrottles, contacts, mediaItems, users, whatsappSessions, workspaces } from "~/server/db/schema";
import { createUser } from "~/server/services/auth";
import { createInvite } from "~/server/services/auth/invites";
import { PasswordHasher, PRODUCTION_SCRYPT, parsePasswordHash, scryptMaxmem } from "~/server/services/auth/passwords";
import { purgeExpiredRows } from "~/server/services/scheduling/sweep";
import { createTestUser, startTestApp, type TestApp } from "../helpers/app";
import { backends } from "../helpers/db";
import { restClient } from "../rest/helpers";

const PASSWORD = "correct horse battery";
/** Above the first format's 2^14, so that its hashes count as cheaper and are rehashed. */
const FLOOD_SCRYPT_LOG_N = 15;

interface TrpcAnswer {
  status: number;
  retryAfter: string | null;
  message: string | null;
  data: unknown;
  cookie: string | null;
}

/** One tRPC call over HTTP as the dashboard makes it (superjson body), from the address `ip` (TRUSTED_PROXY is on). */
async function trpc(app: TestApp, procedure: string, input: unknown, options: { ip?: string; cookie?: string; query?: boolean } = {}): Promise<TrpcAnswer> {
  const headers: Record<string, string> = { "x-forwarded-for": options.ip ?? "203.0.113.1" };
  if (options.cookie) headers.cookie = options.cookie;
  const response = options.query
    ? await fetch(`${app.url}/api/trpc/${procedure}?input=${encodeURIComponent(JSON.stringify({ json: input }))}`, { headers })
    : await fetch(`${app.url}/api/trpc/${procedure}`, {
        method: "POST",
        headers: { ...headers, "content-type": "application/json" },
        body: JSON.stringify({ json: input }),
      });
  const body = (await response.json()) as { result?: { data?: { json?: unknown } }; error?: { json?: { message?: string } } };
  const setCookie = response.headers.get("set-cookie");
  return {
    status: response.status,
    retryAfter: response.headers.get("retry-after"),
    message: body.error?.json?.message ?? null,
    data: body.result?.data?.json ?? null,
    cookie: setCookie ? setCookie.split(";")[0]! : null,
  };
}

const logIn = (app: TestApp, email: string, password: string, ip?: string) => trpc(app, "auth.logIn", { email, password }, { ip });
const signUp = (app: TestApp, input: { email: string; password: string; inviteToken?: string }, ip?: string) =>
  trpc(app, "auth.signUp", input, { ip });

let addressCounter = 0;
/** A fresh client address per test, so one test's failures never block another's. */
const newAddress = () => `198.51.100.${++addressCounter}`;

async function countRows(app: TestApp, table: typeof users | typeof workspaces | typeof authSessions | typeof whatsappSessions | typeof contacts | typeof mediaItems) {
  const [row] = await app.services.db.select({ n: count() }).from(table);
  return Number(row!.n);
}

for (const backend of backends) {
  describe(`[${backend}] abuse: log-ins`, () => {
    let app: TestApp;
    beforeAll(async () => {
      app = await startTestApp(backend, { TRUSTED_PROXY: "true", SIGNUP: "open" }, { initializeScheduler: false });
    });
    afterAll(async () => {
      await app?.close();
    });

    it("200 wrong passwords in a row: 401 five times, then 429 with Retry-After, and then even the right password is 429; no session written", async () => {
      const user = await createTestUser(app);
      const statuses: number[] = [];
      let retryAfter: string | null = null;
      for (let attempt = 0; attempt < 200; attempt++) {
        // From ever new addresses: only the account's own count can stop this.
        const answer = await logIn(app, user.email, `wrong password ${attempt}`, newAddress());
        statuses.push(answer.status);
        // The first 429's: the block just began (later ones count down while 195 more requests run).
        if (answer.status === 429 && retryAfter === null) retryAfter = answer.retryAfter;
      }
      expect(statuses.slice(0, 5)).toEqual([401, 401, 401, 401, 401]);
      expect(new Set(statuses.slice(5))).toEqual(new Set([429]));
      expect(Number(retryAfter)).toBeGreaterThanOrEqual(25);
      expect(Number(retryAfter)).toBeLessThanOrEqual(30);
      const right = await logIn(app, user.email, PASSWORD, newAddress());
      expect(right.status).toBe(429);
      expect(right.message).toMatch(/Too many failed log-ins: try again in \d+ s/);
      expect(right.cookie).toBeNull();
      const [sessions] = await app.services.db.select({ n: count() }).from(authSessions).where(eq(authSessions.userId, user.id));
      expect(Number(sessions!.n)).toBe(0);
      const [throttle] = await app.services.db.select().from(authThrottles).where(eq(authThrottles.key, `email:${user.email}`));
      // Blocked attempts are not even counted: nothing was checked.
      expect(throttle!.failures).toBe(5);
    });

    it("the block doubles with each failure after it ends, and the right password after a block clears the account's count", async () => {
      const user = await createTestUser(app);
      const ip = newAddress();
      for (let attempt = 0; attempt < 5; attempt++) expect((await logIn(app, user.email, "wrong password", ip)).status).toBe(401);
      const expire = () =>
        app.services.db.update(authThrottles).set({ blockedUntil: sql`now() - interval '1 second'` }).where(eq(authThrottles.key, `email:${user.email}`));
      const blockSeconds = async () => {
        const [row] = await app.services.db
          .select({ seconds: sql<number>`extract(epoch from (${authThrottles.blockedUntil} - now()))::float8` })
          .from(authThrottles)
          .where(eq(authThrottles.key, `email:${user.email}`));
        return Number(row!.seconds);
      };
      expect(await blockSeconds()).toBeGreaterThan(25);
      expect(await blockSeconds()).toBeLessThanOrEqual(30);
      await expire();
      expect((await logIn(app, user.email, "wrong password", ip)).status).toBe(401);
      expect(await blockSeconds()).toBeGreaterThan(55);
      expect(await blockSeconds()).toBeLessThanOrEqual(60);
      await expire();
      const right = await logIn(app, user.email, PASSWORD, ip);
      expect(right.status).toBe(200);
      expect(right.cookie).toBeTruthy();
      expect(await app.services.db.select().from(authThrottles).where(eq(authThrottles.key, `email:${user.email}`))).toEqual([]);
    });

    it("one address guessing across many accounts is blocked after 20 failures; another address is not", async () => {
      const ip = newAddress();
      for (let attempt = 0; attempt < 20; attempt++) {
        expect((await logIn(app, `victim${attempt}-${randomUUID()}@example.com`, "wrong password", ip)).status).toBe(401);
      }
      const user = await createTestUser(app);
      const blocked = await logIn(app, user.email, PASSWORD, ip);
      expect(blocked.status).toBe(429);
      expect(Number(blocked.retryAfter)).toBeGreaterThan(0);
      const elsewhere = await logIn(app, user.email, PASSWORD, newAddress());
      expect(elsewhere.status).toBe(200);
      // A client cannot dodge it by writing its own X-Forwarded-For when no proxy is declared: tests/abuse/transport.test.ts
    });

    it("an unknown email costs the same scrypt work as a known one, and gets the same answer", async () => {
      const user = await createTestUser(app);
      const limiter = app.services.passwords.limiter;
      await logIn(app, `warm-up-${randomUUID()}@example.com`, "wrong password", newAddress()); // makes the dummy hash once
      const before = limiter.jobsStarted;
      const known = await logIn(app, user.email, "wrong password", newAddress());
      const afterKnown = limiter.jobsStarted;
      const unknown = await logIn(app, `nobody-${randomUUID()}@example.com`, "wrong password", newAddress());
      expect(afterKnown - before).toBe(1);
      expect(limiter.jobsStarted - afterKnown).toBe(1);
      expect({ status: unknown.status, message: unknown.message }).toEqual({ status: known.status, message: known.message });
      expect(known).toMatchObject({ status: 401, message: "Wrong email or password" });
    });

    it("an idle session stops working, and the sweep's purge removes ended sessions and quiet throttle rows", async () => {
      const user = await createTestUser(app);
      const login = await logIn(app, user.email, PASSWORD, newAddress());
      expect((await trpc(app, "auth.me", undefined, { cookie: login.cookie!, query: true })).data).toMatchObject({ email: user.email });
      await app.services.db.update(authSessions).set({ lastSeenAt: sql`now() - interval '8 days'` }).where(eq(authSessions.userId, user.id));
      const idle = await trpc(app, "apiKey.list", undefined, { cookie: login.cookie!, query: true });
      expect(idle.status).toBe(401);
      const quietKey = `ip:quiet-${randomUUID()}`;
      await app.services.db.insert(authThrottles).values({ key: quietKey, failures: 3, firstFailureAt: sql`now() - interval '2 hours'` });
      const removed = await purgeExpiredRows(app.services.db);
      expect(removed.sessions).toBeGreaterThanOrEqual(1);
      expect(await app.services.db.select().from(authSessions).where(eq(authSessions.userId, user.id))).toEqual([]);
      expect(await app.services.db.select().from(authThrottles).where(eq(authThrottles.key, quietKey))).toEqual([]);
    });
  });

  describe(`[${backend}] abuse: a flood of log-ins against scrypt; old hashes`, () => {
    let app: TestApp;
    beforeAll(async () => {
      app = await startTestApp(
        backend,
        { TRUSTED_PROXY: "true" },
        { initializeScheduler: false, passwordHashing: { params: { logN: FLOOD_SCRYPT_LOG_N, r: 8, p: 1 }, concurrency: 1, maxQueued: 3 } },
      );
    });
    afterAll(async () => {
      await app?.close();
    });

    it("16 parallel log-ins: one scrypt at a time, three queued, the rest 503 with Retry-After; other requests still answer", async () => {
      const user = await createTestUser(app);
      const flood = Array.from({ length: 16 }, (_, i) => logIn(app, user.email, PASSWORD, `192.0.2.${i + 1}`));
      const health = await fetch(`${app.url}/api/v1/health`);
      const answers = await Promise.all(flood);
      expect(health.status).toBe(200);
      const ok = answers.filter((answer) => answer.status === 200);
      const busy = answers.filter((answer) => answer.status === 503);
      expect(ok.length + busy.length).toBe(16);
      expect(ok.length).toBeGreaterThanOrEqual(4);
      expect(busy.length).toBeGreaterThan(0);
      expect(busy[0]!.retryAfter).toBe("2");
      expect(busy[0]!.message).toMatch(/Too many log-ins at once/);
      expect(app.services.passwords.limiter.maxObservedRunning).toBe(1);
      const [sessions] = await app.services.db.select({ n: count() }).from(authSessions).where(eq(authSessions.userId, user.id));
      expect(Number(sessions!.n)).toBe(ok.length);
    });

    it("a password hashed by the first format (no parameters, Node's N = 2^14) still logs in and is rehashed at today's cost", async () => {
      const email = `legacy-${randomUUID()}@example.com`;
      const salt = Buffer.from("0123456789abcdef");
      const legacy = `scrypt$${salt.toString("base64")}$${scryptSync(PASSWORD, salt, 64).toString("base64")}`;
      const [workspace] = await app.services.db.insert(workspaces).values({ name: email }).returning();
      const [row] = await app.services.db.insert(users).values({ email, workspaceId: workspace!.id, passwordHash: legacy }).returning();
      expect((await logIn(app, email, PASSWORD, newAddress())).status).toBe(200);
      const [after] = await app.services.db.select().from(users).where(eq(users.id, row!.id));
      expect(after!.passwordHash).toMatch(new RegExp(`^scrypt\\$ln=${FLOOD_SCRYPT_LOG_N},r=8,p=1\\$`));
      expect((await logIn(app, email, PASSWORD, newAddress())).status).toBe(200);
    });
  });

  describe(`[${backend}] abuse: sign-up`, () => {
    const apps: TestApp[] = [];
    const start = async (env: Record<string, string>) => {
      const app = await startTestApp(backend, { TRUSTED_PROXY: "true", ...env }, { initializeScheduler: false });
      apps.push(app);
      return app;
    };
    afterAll(async () => {
      await Promise.all(apps.map((app) => app.close()));
    });

    it("SIGNUP=closed: 401 naming the way in, nothing written; invites cannot be made", async () => {
      const app = await start({ SIGNUP: "closed" });
      const answer = await signUp(app, { email: "outsider@example.com", password: PASSWORD });
      expect(answer.status).toBe(401);
      expect(answer.message).toMatch(/Sign-up is closed on this server/);
      expect(await countRows(app, users)).toBe(0);
      expect(await countRows(app, workspaces)).toBe(0);
      const member = await createTestUser(app);
      await expect(member.trpc.auth.createInvite({})).rejects.toMatchObject({ code: "CONFLICT" });
    });

    it("with a real WAHA and no SIGNUP, sign-up needs an invite: none or a forged one writes nothing; a real one joins the inviter's workspace, once", async () => {
      const app = await start({});
      expect(app.services.signupMode).toBe("invite");
      const none = await signUp(app, { email: "anonymous@example.com", password: PASSWORD });
      expect(none.status).toBe(401);
      expect(none.message).toMatch(/needs an invite/);
      const forged = await signUp(app, { email: "anonymous@example.com", password: PASSWORD, inviteToken: "forged-token" });
      expect(forged.status).toBe(422);
      expect(await countRows(app, users)).toBe(0);
      expect(await countRows(app, workspaces)).toBe(0);

      const owner = await createTestUser(app);
      const { token } = await owner.trpc.auth.createInvite({});
      expect(await owner.trpc.auth.listInvites()).toHaveLength(1);
      const joined = await signUp(app, { email: "teammate@example.com", password: PASSWORD, inviteToken: token }, newAddress());
      expect(joined.status).toBe(200);
      expect(joined.data).toMatchObject({ email: "teammate@example.com", workspaceId: owner.workspaceId });
      expect(await owner.trpc.auth.listInvites()).toHaveLength(0);
      const again = await signUp(app, { email: "second@example.com", password: PASSWORD, inviteToken: token }, newAddress());
      expect(again.status).toBe(422);
      expect(again.message).toMatch(/used already/);
      expect(await app.services.db.select().from(users).where(eq(users.email, "second@example.com"))).toEqual([]);

      // An invite for one email only works for that email; a revoked one not at all.
      const forAda = await owner.trpc.auth.createInvite({ email: "ada@example.com" });
      expect((await signUp(app, { email: "eve@example.com", password: PASSWORD, inviteToken: forAda.token }, newAddress())).status).toBe(422);
      const revoked = await owner.trpc.auth.createInvite({});
      await owner.trpc.auth.revokeInvite({ id: revoked.invite.id });
      expect((await signUp(app, { email: "mallory@example.com", password: PASSWORD, inviteToken: revoked.token }, newAddress())).status).toBe(422);
      expect((await signUp(app, { email: "ada@example.com", password: PASSWORD, inviteToken: forAda.token }, newAddress())).status).toBe(200);
      const members = await app.services.db.select({ email: users.email }).from(users).where(eq(users.workspaceId, owner.workspaceId));
      expect(members.map((member) => member.email).sort()).toEqual(["ada@example.com", owner.email, "teammate@example.com"].sort());
    });

    it("common passwords are refused with the rule named, and nothing is written", async () => {
      const app = await start({ SIGNUP: "open" });
      for (const password of ["12345678", "Password1", "iloveyou", "qwertyuiop"]) {
        const answer = await signUp(app, { email: `weak-${randomUUID()}@example.com`, password }, newAddress());
        expect(answer.status).toBe(400);
        expect(answer.message).toMatch(/most common/);
      }
      const own = await signUp(app, { email: "same@example.com", password: "same@example.com" }, newAddress());
      expect(own.status).toBe(400);
      expect(await countRows(app, users)).toBe(0);
      expect(await countRows(app, workspaces)).toBe(0);
    });

    it("auth.* inputs are strict: an unknown field is 400 naming it and what is taken, and nothing is written or logged in", async () => {
      const app = await start({ SIGNUP: "open" });
      const misspelt = await trpc(app, "auth.signUp", { email: "typo@example.com", password: PASSWORD, invite_token: "x" }, { ip: newAddress() });
      expect(misspelt.status).toBe(400);
      expect(misspelt.message).toBe('Unknown field "invite_token": this takes email, password, inviteToken');
      const workspaceSet = await trpc(app, "auth.signUp", { email: "typo@example.com", password: PASSWORD, workspaceId: randomUUID() }, { ip: newAddress() });
      expect(workspaceSet.status).toBe(400);
      expect(workspaceSet.message).toMatch(/workspaceId cannot be set/);
      // The check across fields still holds on the strict input.
      const own = await trpc(app, "auth.signUp", { email: "typo@example.com", password: "typo@example.com" }, { ip: newAddress() });
      expect(own.status).toBe(400);
      expect(own.message).toMatch(/must not be your email address/);
      expect(await countRows(app, users)).toBe(0);
      expect(await countRows(app, workspaces)).toBe(0);

      const user = await createTestUser(app);
      const extra = await trpc(app, "auth.logIn", { email: user.email, password: PASSWORD, remember: true }, { ip: newAddress() });
      expect(extra).toMatchObject({ status: 400, cookie: null, message: 'Unknown field "remember": this takes email, password' });
      expect(await countRows(app, authSessions)).toBe(0);
      const loggedIn = await logIn(app, user.email, PASSWORD, newAddress());
      expect(loggedIn.status).toBe(200);
      const cookie = loggedIn.cookie!;
      const invite = await trpc(app, "auth.createInvite", { email: "ada@example.com", role: "admin" }, { cookie });
      expect(invite).toMatchObject({ status: 400, message: 'Unknown field "role": this takes email' });
      const revoke = await trpc(app, "auth.revokeInvite", { id: randomUUID(), force: true }, { cookie });
      expect(revoke).toMatchObject({ status: 400, message: 'Unknown field "force": this takes id' });
      expect(await user.trpc.auth.listInvites()).toEqual([]);
    });

    it("a sign-up flood from one address: ten accounts, then 429 with Retry-After and nothing more written", async () => {
      const app = await start({ SIGNUP: "open" });
      const ip = newAddress();
      const statuses: number[] = [];
      let retryAfter: string | null = null;
      for (let i = 0; i < 20; i++) {
        const answer = await signUp(app, { email: `bot${i}@example.com`, password: PASSWORD }, ip);
        statuses.push(answer.status);
        retryAfter ??= answer.retryAfter;
      }
      expect(statuses.slice(0, 10)).toEqual(Array(10).fill(200));
      expect(new Set(statuses.slice(10))).toEqual(new Set([429]));
      expect(Number(retryAfter)).toBeGreaterThan(60);
      expect(await countRows(app, users)).toBe(10);
      expect((await signUp(app, { email: "human@example.com", password: PASSWORD }, newAddress())).status).toBe(200);
    });
  });

  describe(`[${backend}] abuse: quotas`, () => {
    let app: TestApp;
    beforeAll(async () => {
      app = await startTestApp(backend, { QUOTA_NUMBERS: "2", QUOTA_CONTACTS: "5", QUOTA_MEDIA_BYTES: "1500" }, { initializeScheduler: false });
    });
    afterAll(async () => {
      await app?.close();
    });

    it("numbers: the third is 422 naming QUOTA_NUMBERS, with no row and no WAHA session; a workspace's own quota wins", async () => {
      const owner = await createTestUser(app);
      const rest = restClient(app, owner.apiKey);
      expect((await rest("POST", "/api/v1/sessions", { name: "One" })).status).toBe(201);
      expect((await rest("POST", "/api/v1/sessions", { name: "Two" })).status).toBe(201);
      const sessionsCreatedOnWaha = () => app.fakeWaha.calls().filter((call) => call.method === "POST" && call.path === "/api/sessions").length;
      const wahaBefore = sessionsCreatedOnWaha();
      const third = await rest("POST", "/api/v1/sessions", { name: "Three" });
      expect(third.status).toBe(422);
      expect(third.body.error.message).toMatch(/^Quota exceeded: .*at most 2 WhatsApp numbers \(QUOTA_NUMBERS\)/);
      const [rows] = await app.services.db.select({ n: count() }).from(whatsappSessions).where(eq(whatsappSessions.workspaceId, owner.workspaceId));
      expect(Number(rows!.n)).toBe(2);
      expect(sessionsCreatedOnWaha()).toBe(wahaBefore);
      await app.services.db.update(workspaces).set({ quotaNumbers: 3 }).where(eq(workspaces.id, owner.workspaceId));
      expect((await rest("POST", "/api/v1/sessions", { name: "Three" })).status).toBe(201);
    });

    it("contacts: an import that would pass QUOTA_CONTACTS is 422 and imports nothing; one within it goes in", async () => {
      const owner = await createTestUser(app);
      const rest = restClient(app, owner.apiKey);
      const list = await rest("POST", "/api/v1/lists", { name: "Customers" });
      const six = Array.from({ length: 6 }, (_, i) => ({ phone: `+1 201 555 01${String(i).padStart(2, "0")}`, first_name: `C${i}` }));
      const tooMany = await rest("POST", `/api/v1/lists/${list.body.id}/contacts`, six);
      expect(tooMany.status).toBe(422);
      expect(tooMany.body.error.message).toMatch(/^Quota exceeded: .*6 contacts, over its limit of 5 \(QUOTA_CONTACTS\)/);
      const [rows] = await app.services.db.select({ n: count() }).from(contacts).where(eq(contacts.workspaceId, owner.workspaceId));
      expect(Number(rows!.n)).toBe(0);
      expect((await rest("POST", `/api/v1/lists/${list.body.id}/contacts`, six.slice(0, 5))).status).toBeLessThan(300);
    });

    it("media: an upload past QUOTA_MEDIA_BYTES is 422, with no row and no file", async () => {
      const owner = await createTestUser(app);
      const rest = restClient(app, owner.apiKey);
      const png = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(992, 1)]);
      const upload = () =>
        fetch(`${app.url}/api/v1/media?filename=a.png`, {
          method: "POST",
          headers: { authorization: `Bearer ${owner.apiKey}`, "content-type": "image/png" },
          body: new Uint8Array(png),
        });
      expect((await upload()).status).toBe(201);
      const second = await upload();
      expect(second.status).toBe(422);
      expect(((await second.json()) as { error: { message: string } }).error.message).toMatch(/^Quota exceeded: .*QUOTA_MEDIA_BYTES/);
      const [rows] = await app.services.db.select({ n: count() }).from(mediaItems).where(eq(mediaItems.workspaceId, owner.workspaceId));
      expect(Number(rows!.n)).toBe(1);
      expect(readdirSync(path.join(app.services.mediaDir, owner.workspaceId))).toHaveLength(1);
      expect(await rest("GET", "/api/v1/media")).toMatchObject({ status: 200 });
    });
  });
}

describe("password hashing at production cost", () => {
  it("is scrypt with N >= 2^17 (r = 8, p = 1), maxmem above its 128 MB, stored in the hash", async () => {
    expect(2 ** PRODUCTION_SCRYPT.logN).toBeGreaterThanOrEqual(2 ** 17);
    expect(scryptMaxmem(PRODUCTION_SCRYPT)).toBeGreaterThan(128 * 2 ** PRODUCTION_SCRYPT.logN * PRODUCTION_SCRYPT.r);
    const hasher = new PasswordHasher();
    expect(hasher.params).toEqual(PRODUCTION_SCRYPT);
    const stored = await hasher.hash(PASSWORD);
    expect(stored).toMatch(/^scrypt\$ln=17,r=8,p=1\$/);
    expect(parsePasswordHash(stored)!.params.logN).toBeGreaterThanOrEqual(17);
    expect(await hasher.verify(PASSWORD, stored)).toEqual({ ok: true, needsRehash: false });
    expect(await hasher.verify("wrong password", stored)).toEqual({ ok: false, needsRehash: false });
  });

  it("the CLI and BOOTSTRAP_* follow the same password rules", async () => {
    const app = await startTestApp(backends[0]!, {}, { initializeScheduler: false });
    try {
      await expect(createUser(app.services.db, { email: "cli@example.com", password: "password1" }, { passwords: app.services.passwords })).rejects.toThrow(
        /most common/,
      );
      expect(await app.services.db.select().from(users).where(and(eq(users.email, "cli@example.com")))).toEqual([]);
      const invite = await createInvite(app.services.db, { workspaceId: (await createTestUser(app)).workspaceId, userId: null });
      expect(invite.token.length).toBeGreaterThan(30);
    } finally {
      await app.close();
    }
  });
});
