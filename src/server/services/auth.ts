/**
 * Accounts: email + password users, each in a workspace of their own (or, with an invite, in the
 * inviter's); browser sessions; API keys. Passwords: scrypt with a stored cost (auth/passwords.ts),
 * bounded concurrency, the most common passwords refused (auth/commonPasswords.ts). Log-ins and
 * sign-ups are throttled in the database (auth/throttle.ts). Session tokens and API keys are random
 * and stored as SHA-256 hashes, so a database leak does not hand out working credentials.
 */
import { randomBytes } from "node:crypto";
import { and, eq, gt, isNull, lt, or, sql } from "drizzle-orm";
import { z } from "zod";
import type { Db } from "../db/client";
import { apiKeys, authSessions, users, workspaces } from "../db/schema";
import { isCommonPassword } from "./auth/commonPasswords";
import { consumeInvite } from "./auth/invites";
import { PasswordHasher } from "./auth/passwords";
import { type AuthThrottle, throttleKeys, type ThrottleKey } from "./auth/throttle";
import { randomToken, sha256 } from "./auth/tokens";
import { AppError, isUniqueViolation } from "./errors";

export { sha256 };

/** A session lives at most this long, and ends sooner when unused for SESSION_IDLE_MS. */
export const SESSION_TTL_MS = 30 * 24 * 3600 * 1000;
export const SESSION_IDLE_MS = 7 * 24 * 3600 * 1000;
/** last_seen_at is written at most this often per session (requests then do not queue on one row). */
const LAST_SEEN_PRECISION_MS = 60_000;

const emailSchema = z.email({ error: "Enter a valid email address" }).trim().toLowerCase();

/** Log-in: any password up to 200 characters is checked (a rule added later must not lock anyone out). */
export const credentialsSchema = z.object({
  email: emailSchema,
  password: z.string().min(1, "Enter your password").max(200, "Password is too long"),
});
export type Credentials = z.infer<typeof credentialsSchema>;

/** A new password: long enough, not one attackers try first, not the email itself. */
export const newPasswordSchema = z
  .string()
  .min(8, "Password must be at least 8 characters")
  .max(200, "Password is too long")
  .refine((password) => !isCommonPassword(password), {
    error: "This password is one of the 10,000 most common ones, which attackers try first: choose another (a few unrelated words work well)",
  });

/** A new account's fields, before the check across them (`passwordIsNotEmail`); the API makes them strict. */
export const newAccountFields = z.object({
  email: emailSchema,
  password: newPasswordSchema,
  /** From an invite link: the account joins the inviter's workspace. */
  inviteToken: z.string().trim().min(1).max(200).optional(),
});

/** `schema` that also refuses a password that is the email address or its local part. */
export function passwordIsNotEmail<Schema extends z.ZodType<{ email: string; password: string }>>(schema: Schema) {
  return schema.refine((input) => input.password.trim().toLowerCase() !== input.email && input.password.trim().toLowerCase() !== input.email.split("@")[0], {
    error: "The password must not be your email address: choose another",
    path: ["password"],
  });
}

export const newAccountSchema = passwordIsNotEmail(newAccountFields);
export type NewAccount = z.infer<typeof newAccountSchema>;

/** Who may sign up: anyone (`open`), holders of an invite link (`invite`), nobody (`closed`: CLI and BOOTSTRAP_* only). */
export type SignupMode = "open" | "invite" | "closed";

export interface Caller {
  userId: string | null;
  workspaceId: string;
  email: string | null;
  via: "session" | "api-key";
}

let fallbackHasher: PasswordHasher | null = null;
/** For callers that bring no hasher (scripts, the bench): production cost, a limiter of its own. */
function hasherOr(passwords: PasswordHasher | undefined): PasswordHasher {
  if (passwords) return passwords;
  fallbackHasher ??= new PasswordHasher();
  return fallbackHasher;
}

export interface AccountDeps {
  /** The process's hasher (AppServices.passwords): its limiter bounds scrypt work for the whole process. */
  passwords?: PasswordHasher;
}

/**
 * A user: in a new workspace of their own, or in `workspaceId` (an invite). The password must meet
 * newPasswordSchema (checked here too, so the CLI and BOOTSTRAP_* cannot bypass it).
 */
export async function createUser(
  db: Db,
  credentials: { email: string; password: string },
  options: AccountDeps & { inviteToken?: string } = {},
) {
  const checked = newAccountSchema.parse(credentials);
  const passwordHash = await hasherOr(options.passwords).hash(checked.password);
  try {
    return await db.transaction(async (tx) => {
      let workspaceId: string;
      if (options.inviteToken) {
        workspaceId = await consumeInvite(tx, options.inviteToken, checked.email);
      } else {
        const [workspace] = await tx.insert(workspaces).values({ name: checked.email }).returning();
        workspaceId = workspace!.id;
      }
      const [user] = await tx
        .insert(users)
        .values({ workspaceId, email: checked.email, passwordHash })
        .returning({ id: users.id, email: users.email, workspaceId: users.workspaceId });
      return user!;
    });
  } catch (error) {
    if (isUniqueViolation(error)) {
      throw new AppError("CONFLICT", "An account with this email already exists: log in instead", "email");
    }
    throw error;
  }
}

export interface ThrottledDeps extends AccountDeps {
  /** Absent (scripts, tests calling services directly): no throttling. */
  throttle?: AuthThrottle;
  /** The client's address; null when unknown (then only the account is throttled). */
  clientIp?: string | null;
}

/**
 * Sign-up through the web: throttled per address (every attempt counts, made or refused), allowed by
 * SIGNUP, with an invite when SIGNUP=invite.
 */
export async function signUp(db: Db, input: NewAccount, options: ThrottledDeps & { mode: SignupMode }) {
  const keys: ThrottleKey[] = options.clientIp ? [throttleKeys.signup(options.clientIp)] : [];
  await options.throttle?.assertNotBlocked([...keys, throttleKeys.email(input.email)], "sign-ups from this address");
  await options.throttle?.recordFailure(keys);
  if (options.mode === "closed") {
    throw new AppError("UNAUTHORIZED", "Sign-up is closed on this server: ask its administrator for an account");
  }
  if (options.mode === "invite" && !input.inviteToken) {
    throw new AppError("UNAUTHORIZED", "Sign-up needs an invite on this server: ask a member of a workspace for an invite link");
  }
  return createUser(db, input, { passwords: options.passwords, inviteToken: input.inviteToken });
}

/**
 * Checks the password and opens a session; the returned token goes into the cookie. A blocked account
 * or address gets 429 before any check. An unknown email costs the same scrypt work as a known one
 * (a dummy hash), and both count as failures: the answer and its timing do not tell which emails exist.
 */
export async function logIn(db: Db, credentials: Credentials, options: ThrottledDeps = {}) {
  const passwords = hasherOr(options.passwords);
  const keys = [throttleKeys.email(credentials.email), ...(options.clientIp ? [throttleKeys.ip(options.clientIp)] : [])];
  await options.throttle?.assertNotBlocked(keys, "failed log-ins");
  const [user] = await db.select().from(users).where(eq(users.email, credentials.email));
  let verified = false;
  if (user) {
    const result = await passwords.verify(credentials.password, user.passwordHash);
    verified = result.ok;
    if (result.needsRehash) {
      // The password is known right now: store it at today's cost.
      const passwordHash = await passwords.hash(credentials.password);
      await db.update(users).set({ passwordHash }).where(eq(users.id, user.id));
    }
  } else {
    await passwords.verifyDummy(credentials.password);
  }
  if (!user || !verified) {
    await options.throttle?.recordFailure(keys);
    // Same error either way: do not reveal which emails have accounts.
    throw new AppError("UNAUTHORIZED", "Wrong email or password");
  }
  await options.throttle?.clear([throttleKeys.email(credentials.email)]);
  return openSession(db, user);
}

/** A new browser session for a user whose password was just checked (log-in) or set (sign-up). */
export async function openSession(db: Db, user: { id: string; email: string; workspaceId: string }) {
  const token = randomToken();
  const expiresAt = new Date(Date.now() + SESSION_TTL_MS);
  await db.insert(authSessions).values({ userId: user.id, tokenHash: sha256(token), expiresAt });
  return { token, expiresAt, user: { id: user.id, email: user.email, workspaceId: user.workspaceId } };
}

/** The session's caller, unless it expired or sat unused for SESSION_IDLE_MS; keeps last_seen_at current. */
export async function callerFromSessionToken(db: Db, token: string): Promise<Caller | null> {
  const [row] = await db
    .select({ sessionId: authSessions.id, lastSeenAt: authSessions.lastSeenAt, userId: users.id, workspaceId: users.workspaceId, email: users.email })
    .from(authSessions)
    .innerJoin(users, eq(users.id, authSessions.userId))
    .where(
      and(
        eq(authSessions.tokenHash, sha256(token)),
        gt(authSessions.expiresAt, sql`now()`),
        gt(authSessions.lastSeenAt, sql`now() - ${SESSION_IDLE_MS} * interval '1 millisecond'`),
      ),
    );
  if (!row) return null;
  if (Date.now() - row.lastSeenAt.getTime() > LAST_SEEN_PRECISION_MS) {
    await db.update(authSessions).set({ lastSeenAt: sql`now()` }).where(eq(authSessions.id, row.sessionId));
  }
  return { userId: row.userId, workspaceId: row.workspaceId, email: row.email, via: "session" };
}

export async function logOut(db: Db, token: string): Promise<void> {
  await db.delete(authSessions).where(eq(authSessions.tokenHash, sha256(token)));
}

/** The sweep's part: sessions past their end or idle too long. Returns how many went. */
export async function purgeEndedSessions(db: Db): Promise<number> {
  const removed = await db
    .delete(authSessions)
    .where(
      or(
        lt(authSessions.expiresAt, sql`now()`),
        lt(authSessions.lastSeenAt, sql`now() - ${SESSION_IDLE_MS} * interval '1 millisecond'`),
      ),
    )
    .returning({ id: authSessions.id });
  return removed.length;
}

const API_KEY_PREFIX = "wc_";

/** Creates a key; the raw key is returned once and never stored. */
export async function createApiKey(
  db: Db,
  input: { workspaceId: string; userId: string | null; name: string; rawKey?: string },
) {
  const rawKey = input.rawKey ?? API_KEY_PREFIX + randomBytes(24).toString("base64url");
  const [record] = await db
    .insert(apiKeys)
    .values({
      workspaceId: input.workspaceId,
      userId: input.userId,
      name: input.name,
      prefix: rawKey.slice(0, 8),
      keyHash: sha256(rawKey),
    })
    .onConflictDoNothing()
    .returning({ id: apiKeys.id, name: apiKeys.name, prefix: apiKeys.prefix, createdAt: apiKeys.createdAt });
  if (!record) throw new AppError("CONFLICT", "This API key already exists");
  return { key: rawKey, record };
}

/** Minutes are precise enough for "last used", and requests with one key then do not queue on one row. */
const LAST_USED_PRECISION_MS = 60_000;

export async function callerFromApiKey(db: Db, rawKey: string): Promise<Caller | null> {
  const [row] = await db
    .select({ id: apiKeys.id, workspaceId: apiKeys.workspaceId, userId: apiKeys.userId, lastUsedAt: apiKeys.lastUsedAt })
    .from(apiKeys)
    .where(and(eq(apiKeys.keyHash, sha256(rawKey)), isNull(apiKeys.revokedAt)));
  if (!row) return null;
  if (!row.lastUsedAt || Date.now() - row.lastUsedAt.getTime() > LAST_USED_PRECISION_MS) {
    await db.update(apiKeys).set({ lastUsedAt: new Date() }).where(eq(apiKeys.id, row.id));
  }
  return { workspaceId: row.workspaceId, userId: row.userId, email: null, via: "api-key" };
}

export async function listApiKeys(db: Db, workspaceId: string) {
  return db
    .select({
      id: apiKeys.id,
      name: apiKeys.name,
      prefix: apiKeys.prefix,
      createdAt: apiKeys.createdAt,
      lastUsedAt: apiKeys.lastUsedAt,
      revokedAt: apiKeys.revokedAt,
    })
    .from(apiKeys)
    .where(eq(apiKeys.workspaceId, workspaceId))
    .orderBy(apiKeys.createdAt);
}

export async function revokeApiKey(db: Db, workspaceId: string, id: string): Promise<void> {
  const [row] = await db
    .update(apiKeys)
    .set({ revokedAt: new Date() })
    .where(and(eq(apiKeys.id, id), eq(apiKeys.workspaceId, workspaceId)))
    .returning({ id: apiKeys.id });
  if (!row) throw new AppError("NOT_FOUND", "API key not found");
}

/**
 * First run: when no user exists, create the admin from BOOTSTRAP_* (and its API key).
 * Returns what it created, for the start-up log.
 */
export async function bootstrapAdmin(
  db: Db,
  input: { email?: string; password?: string; apiKey?: string },
  deps: AccountDeps = {},
): Promise<{ created: boolean; email?: string }> {
  if (!input.email || !input.password) return { created: false };
  const [anyUser] = await db.select({ id: users.id }).from(users).limit(1);
  if (anyUser) return { created: false };
  const checked = newAccountSchema.safeParse({ email: input.email, password: input.password });
  if (!checked.success) {
    const issue = checked.error.issues[0]!;
    throw new AppError("BAD_REQUEST", `BOOTSTRAP_ADMIN_${String(issue.path[0] ?? "password").toUpperCase()}: ${issue.message}`);
  }
  const user = await createUser(db, checked.data, deps);
  if (input.apiKey) {
    await createApiKey(db, { workspaceId: user.workspaceId, userId: user.id, name: "bootstrap", rawKey: input.apiKey });
  }
  return { created: true, email: user.email };
}
