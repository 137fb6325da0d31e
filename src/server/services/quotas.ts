/**
 * Per-workspace quotas: how many WhatsApp numbers (each is a session on the owner's WAHA server), how
 * many contacts, how many bytes of media. A workspace's own column (`workspaces.quota_*`) wins; null
 * means the installation's default (QUOTA_* in the env).
 *
 * Each check runs inside the transaction that writes, after locking the workspace row, so two
 * requests at once cannot both squeeze under the limit; going over throws and the transaction leaves
 * nothing written.
 */
import { eq, sql } from "drizzle-orm";
import type { Db } from "../db/client";
import { contacts, mediaItems, whatsappSessions, workspaces } from "../db/schema";
import { AppError } from "./errors";

export interface QuotaDefaults {
  numbers: number;
  contacts: number;
  mediaBytes: number;
}

/** The same defaults as QUOTA_* in src/env.ts: used by callers that pass none. */
export const DEFAULT_QUOTAS: QuotaDefaults = { numbers: 10, contacts: 100_000, mediaBytes: 500 * 1024 * 1024 };

type Tx = Parameters<Parameters<Db["transaction"]>[0]>[0];
type Executor = Db | Tx;

/** Locks the workspace row until the transaction ends and returns its limits. */
async function lockedLimits(tx: Executor, workspaceId: string, defaults: QuotaDefaults): Promise<QuotaDefaults> {
  const [row] = await tx
    .select({ numbers: workspaces.quotaNumbers, contacts: workspaces.quotaContacts, mediaBytes: workspaces.quotaMediaBytes })
    .from(workspaces)
    .where(eq(workspaces.id, workspaceId))
    .for("update");
  return {
    numbers: row?.numbers ?? defaults.numbers,
    contacts: row?.contacts ?? defaults.contacts,
    mediaBytes: row?.mediaBytes ?? defaults.mediaBytes,
  };
}

function exceeded(message: string, field?: string): AppError {
  return new AppError("UNPROCESSABLE", `Quota exceeded: ${message}`, field);
}

/** Before adding one number. */
export async function assertNumberQuota(tx: Executor, workspaceId: string, defaults: QuotaDefaults): Promise<void> {
  const limits = await lockedLimits(tx, workspaceId, defaults);
  const [row] = await tx
    .select({ count: sql<number>`count(*)::int` })
    .from(whatsappSessions)
    .where(eq(whatsappSessions.workspaceId, workspaceId));
  if (Number(row!.count) >= limits.numbers) {
    throw exceeded(`this workspace may have at most ${limits.numbers} WhatsApp numbers (QUOTA_NUMBERS); delete one first`);
  }
}

/** Locks the workspace before an import (call first in its transaction). */
export async function lockForContacts(tx: Executor, workspaceId: string, defaults: QuotaDefaults): Promise<QuotaDefaults> {
  return lockedLimits(tx, workspaceId, defaults);
}

/** After the import's rows went in (same transaction): too many rolls it all back. */
export async function assertContactQuota(tx: Executor, workspaceId: string, limits: QuotaDefaults): Promise<void> {
  const [row] = await tx
    .select({ count: sql<number>`count(*)::int` })
    .from(contacts)
    .where(eq(contacts.workspaceId, workspaceId));
  const total = Number(row!.count);
  if (total > limits.contacts) {
    throw exceeded(
      `this import would bring the workspace to ${total} contacts, over its limit of ${limits.contacts} (QUOTA_CONTACTS); nothing was imported`,
    );
  }
}

/** Before storing `addingBytes` more media. */
export async function assertMediaQuota(tx: Executor, workspaceId: string, defaults: QuotaDefaults, addingBytes: number): Promise<void> {
  const limits = await lockedLimits(tx, workspaceId, defaults);
  const [row] = await tx
    .select({ bytes: sql<number>`coalesce(sum(${mediaItems.sizeBytes}), 0)::bigint` })
    .from(mediaItems)
    .where(eq(mediaItems.workspaceId, workspaceId));
  const used = Number(row!.bytes);
  if (used + addingBytes > limits.mediaBytes) {
    throw exceeded(
      `this file (${formatBytes(addingBytes)}) would bring the media library to ${formatBytes(used + addingBytes)}, over its limit of ${formatBytes(limits.mediaBytes)} (QUOTA_MEDIA_BYTES); delete some images first`,
      "file",
    );
  }
}

function formatBytes(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
  if (bytes >= 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${bytes} bytes`;
}
