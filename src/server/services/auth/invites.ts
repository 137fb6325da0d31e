/**
 * Invitations (SIGNUP=invite): a member makes a link; whoever signs up with it joins that member's
 * workspace instead of getting one of their own. The link holds a random token, the row its hash.
 * An invite works once, until it expires, and only for its email when one was given.
 */
import { and, desc, eq, gt, isNull, or, sql } from "drizzle-orm";
import type { Db } from "../../db/client";
import { invites } from "../../db/schema";
import { AppError, notFound } from "../errors";
import { randomToken, sha256 } from "./tokens";

type Tx = Parameters<Parameters<Db["transaction"]>[0]>[0];

export const INVITE_TTL_MS = 7 * 24 * 3_600_000;

export async function createInvite(
  db: Db,
  input: { workspaceId: string; userId: string | null; email?: string | null; ttlMs?: number },
) {
  const token = randomToken();
  const [invite] = await db
    .insert(invites)
    .values({
      workspaceId: input.workspaceId,
      createdByUserId: input.userId,
      email: input.email?.toLowerCase() ?? null,
      tokenHash: sha256(token),
      expiresAt: new Date(Date.now() + (input.ttlMs ?? INVITE_TTL_MS)),
    })
    .returning({ id: invites.id, email: invites.email, expiresAt: invites.expiresAt, createdAt: invites.createdAt });
  return { token, invite: invite! };
}

/** Invites still usable: not used, not expired. */
export async function listOpenInvites(db: Db, workspaceId: string) {
  return db
    .select({ id: invites.id, email: invites.email, expiresAt: invites.expiresAt, createdAt: invites.createdAt })
    .from(invites)
    .where(and(eq(invites.workspaceId, workspaceId), isNull(invites.usedAt), gt(invites.expiresAt, sql`now()`)))
    .orderBy(desc(invites.createdAt));
}

export async function revokeInvite(db: Db, workspaceId: string, id: string): Promise<void> {
  const removed = await db
    .delete(invites)
    .where(and(eq(invites.id, id), eq(invites.workspaceId, workspaceId), isNull(invites.usedAt)))
    .returning({ id: invites.id });
  if (removed.length === 0) throw notFound("Invite");
}

/**
 * Marks the invite used (in the sign-up's transaction, so a failed sign-up leaves it usable) and
 * returns the workspace it joins. One conditional UPDATE: two sign-ups with one link cannot both win.
 */
export async function consumeInvite(db: Db | Tx, token: string, email: string): Promise<string> {
  const [row] = await db
    .update(invites)
    .set({ usedAt: sql`now()` })
    .where(
      and(
        eq(invites.tokenHash, sha256(token)),
        isNull(invites.usedAt),
        gt(invites.expiresAt, sql`now()`),
        or(isNull(invites.email), eq(invites.email, email.toLowerCase())),
      ),
    )
    .returning({ workspaceId: invites.workspaceId });
  if (!row) {
    throw new AppError(
      "UNPROCESSABLE",
      "This invite link cannot be used: it was used already, revoked, expired, or is for another email. Ask for a new one",
      "inviteToken",
    );
  }
  return row.workspaceId;
}

/** The sweep's part: invites expired for more than a week. */
export async function purgeExpiredInvites(db: Db): Promise<number> {
  const removed = await db
    .delete(invites)
    .where(sql`${invites.expiresAt} < now() - interval '7 days'`)
    .returning({ id: invites.id });
  return removed.length;
}
