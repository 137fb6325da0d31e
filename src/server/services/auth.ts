/**
 * Accounts: email + password users, each in a workspace of their own; browser sessions; API keys.
 * Passwords use scrypt (node:crypto); session tokens and API keys are random and stored as SHA-256
 * hashes, so a database leak does not hand out working credentials.
 */
import { createHash, randomBytes, scrypt as scryptCallback, timingSafeEqual } from "node:crypto";
import { promisify } from "node:util";
import { and, eq, gt, isNull } from "drizzle-orm";
import { z } from "zod";
import type { Db } from "../db/client";
import { apiKeys, authSessions, users, workspaces } from "../db/schema";
import { AppError, isUniqueViolation } from "./errors";

const scrypt = promisify(scryptCallback) as (password: string, salt: Buffer, keylen: number) => Promise<Buffer>;
const SESSION_TTL_MS = 30 * 24 * 3600 * 1000;

export const credentialsSchema = z.object({
  email: z.email({ error: "Enter a valid email address" }).trim().toLowerCase(),
  password: z.string().min(8, "Password must be at least 8 characters").max(200, "Password is too long"),
});
export type Credentials = z.infer<typeof credentialsSchema>;

export interface Caller {
  userId: string | null;
  workspaceId: string;
  email: string | null;
  via: "session" | "api-key";
}

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const hash = await scrypt(password, salt, 64);
  return `scrypt$${salt.toString("base64")}$${hash.toString("base64")}`;
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, saltText, hashText] = stored.split("$");
  if (scheme !== "scrypt" || !saltText || !hashText) return false;
  const expected = Buffer.from(hashText, "base64");
  const actual = await scrypt(password, Buffer.from(saltText, "base64"), expected.length);
  return timingSafeEqual(actual, expected);
}

export function sha256(value: string): string {
  return createHash("sha256").update(value).digest("hex");
}

export async function createUser(db: Db, credentials: Credentials) {
  const passwordHash = await hashPassword(credentials.password);
  try {
    return await db.transaction(async (tx) => {
      const [workspace] = await tx.insert(workspaces).values({ name: credentials.email }).returning();
      const [user] = await tx
        .insert(users)
        .values({ workspaceId: workspace!.id, email: credentials.email, passwordHash })
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

/** Checks the password and opens a session; the returned token goes into the cookie. */
export async function logIn(db: Db, credentials: Credentials) {
  const [user] = await db.select().from(users).where(eq(users.email, credentials.email));
  // Same error either way: do not reveal which emails have accounts.
  if (!user || !(await verifyPassword(credentials.password, user.passwordHash))) {
    throw new AppError("UNAUTHORIZED", "Wrong email or password");
  }
  const token = randomBytes(32).toString("base64url");
  const expiresAt = new Date(Date.now() + SESSION_TTL_MS);
  await db.insert(authSessions).values({ userId: user.id, tokenHash: sha256(token), expiresAt });
  return { token, expiresAt, user: { id: user.id, email: user.email, workspaceId: user.workspaceId } };
}

export async function callerFromSessionToken(db: Db, token: string): Promise<Caller | null> {
  const [row] = await db
    .select({ userId: users.id, workspaceId: users.workspaceId, email: users.email })
    .from(authSessions)
    .innerJoin(users, eq(users.id, authSessions.userId))
    .where(and(eq(authSessions.tokenHash, sha256(token)), gt(authSessions.expiresAt, new Date())));
  return row ? { ...row, via: "session" } : null;
}

export async function logOut(db: Db, token: string): Promise<void> {
  await db.delete(authSessions).where(eq(authSessions.tokenHash, sha256(token)));
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
): Promise<{ created: boolean; email?: string }> {
  if (!input.email || !input.password) return { created: false };
  const [anyUser] = await db.select({ id: users.id }).from(users).limit(1);
  if (anyUser) return { created: false };
  const user = await createUser(db, credentialsSchema.parse({ email: input.email, password: input.password }));
  if (input.apiKey) {
    await createApiKey(db, { workspaceId: user.workspaceId, userId: user.id, name: "bootstrap", rawKey: input.apiKey });
  }
  return { created: true, email: user.email };
}
