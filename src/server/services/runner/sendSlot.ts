/**
 * The send loop's SQL. A WhatsApp session's send slot (`whatsapp_sessions.send_slot_holder` until
 * `send_slot_expires_at`, and no send before `next_send_at`) paces sends per number across every
 * campaign and process. A recipient is only ever `sending` while its runner holds that slot, so
 * "the slot is free or expired" means "no send is in flight on this number".
 *
 * The hot path is one statement, `sendStep` (the function `wc_send_step`, migration 0002): it settles
 * the previous recipient, frees the slot with the next delay, and takes the slot and the next
 * recipient when it may. With no delay that is one statement per message; with a delay, the take
 * comes in a second statement once the delay has passed. Being a PL/pgSQL function, its statements
 * are planned once per connection, on PostgreSQL and PGlite alike.
 *
 * Since migration 0005 the same UPDATE that takes the slot for a recipient also enforces and counts
 * the number's limits (issue 13): its local day and hour (given by the caller, who knows the zone),
 * the daily limit (the warm-up's effective one) and the hourly one, and `restricted_until`. When
 * one holds, nothing is taken and `held` says which; no statement is added for it.
 */
import { sql } from "drizzle-orm";
import { type Db, queryRows } from "~/server/db/client";

export interface SlotKey {
  campaignId: string;
  sessionId: string;
  /** The campaign's lease holder: every statement re-checks that the campaign is still ours and Running. */
  holder: string;
  /** Our token in `send_slot_holder`; ends with `|<campaignId>` (cancel waits on that). */
  slotHolder: string;
  slotTtlMs: number;
  /** The number's limits now (the run's rules); steps that pass none use these, so counts stay in the right day. */
  limits?: () => SendLimits;
}

export interface SendingRecipient {
  id: string;
  phone: string;
  chatId: string;
  renderedText: string;
  /** Our attempt token: settling is conditional on it, so a row someone else re-took is left alone. */
  attempts: number;
  wahaMessageId: string | null;
}

export type RecipientOutcome =
  | { status: "sent"; wahaMessageId: string; ack?: number | null }
  | { status: "failed"; error: string }
  /** `uncounted`: no attempt reached WAHA, so the attempt its take counted is taken back. */
  | { status: "pending"; error?: string | null; uncounted?: boolean }
  /** Not sent, on purpose (e.g. `not_on_whatsapp`); the message its take counted is given back. */
  | { status: "skipped"; reason: string; error: string }
  | { status: "unknown"; error: string };

export interface StepInput {
  /** The previous recipient and what it becomes (only if it is still ours: same attempt token). */
  settle?: { recipient: { id: string; attempts: number }; outcome: RecipientOutcome } | null;
  /** Free our slot; the number's next send waits `nextDelayMs` (null: keep `next_send_at`). */
  release?: { nextDelayMs: number | null } | null;
  /** Take the number's slot only (recovery), the slot and the next recipient, or nothing. */
  take: "none" | "slot" | "recipient";
  /** The WAHA message id the taken recipient is sent with (fixed before the call). */
  messageId?: string | null;
  /** The number's limits now; absent: none (counting goes on in the UTC day and hour). */
  limits?: SendLimits | null;
  /** Recipient-local send windows: take only recipients in these zones (open now); absent: any. */
  openZones?: string[] | null;
}

/**
 * The number's sending limits at this moment, for wc_send_step: the local day and hour its
 * messages count in (the number's time zone), and the limits (the warm-up's effective daily limit).
 */
export interface SendLimits {
  dayStart: Date;
  dailyLimit: number | null;
  hourStart: Date;
  hourlyLimit: number | null;
}

/** Why the number's slot was not taken although it was free: a limit or a restriction. */
export type HeldBy = "restricted" | "daily_limit" | "hourly_limit";

export interface StepResult {
  /** False: the campaign is no longer Running under our lease (paused, cancelled, deleted, taken over). */
  leaseOk: boolean;
  /** The previous recipient's outcome was recorded. */
  settled: boolean;
  slotTaken: boolean;
  /** The recipient now `sending` under our slot; null when none was taken. */
  recipient: SendingRecipient | null;
  /** Whether any recipient is pending. */
  hasPending: boolean;
  /** When nothing was taken: how long until the number's delay passes or a busy slot expires. */
  waitMs: number;
  /** When nothing was taken: someone holds the slot (a send in flight), as opposed to the delay. */
  slotBusy: boolean;
  /** When nothing was taken: the number is restricted or reached a limit (null: not held). */
  held: HeldBy | null;
  /** With `held: "restricted"`: when the restriction ends. */
  heldUntil: Date | null;
  /** The number's failed sends in a row after this settle (null when the step freed or kept no slot). */
  consecutiveFailures: number | null;
}

export function slotHolderFor(holder: string, campaignId: string): string {
  return `${holder}|${campaignId}`;
}

interface StepRow {
  lease_ok: boolean;
  settled: boolean;
  slot_taken: boolean;
  has_pending: boolean | null;
  wait_ms: number | null;
  slot_busy: boolean | null;
  id: string | null;
  phone: string | null;
  chat_id: string | null;
  rendered_text: string | null;
  attempts: number | null;
  waha_message_id: string | null;
  held: string | null;
  held_until: Date | string | null;
  consecutive_failures: number | null;
}

/** UTC's day and hour: where messages count when the caller gives no limits. */
function utcBuckets(now = Date.now()): { dayStart: Date; hourStart: Date } {
  return { dayStart: new Date(now - (now % 86_400_000)), hourStart: new Date(now - (now % 3_600_000)) };
}

/** One step of the send loop (see the file's comment): settle, release, take, in one statement. */
export async function sendStep(db: Db, key: SlotKey, input: StepInput): Promise<StepResult> {
  const settle = input.settle ?? null;
  const outcome = settle?.outcome ?? null;
  const delay = input.release?.nextDelayMs;
  const limits = input.limits ?? key.limits?.() ?? { ...utcBuckets(), dailyLimit: null, hourlyLimit: null };
  const zones = input.openZones ?? null;
  const [row] = await queryRows<StepRow>(
    db,
    sql`select * from wc_send_step(
      ${key.campaignId}::uuid, ${key.holder}::text, ${key.sessionId}::uuid, ${key.slotHolder}::text, ${Math.round(key.slotTtlMs)}::int,
      ${settle ? settle.recipient.id : null}::int8, ${settle ? settle.recipient.attempts : null}::int, ${outcome?.status ?? null}::text,
      ${outcome?.status === "sent" ? outcome.wahaMessageId : null}::text,
      ${outcome && outcome.status !== "sent" ? (outcome.error ?? null) : null}::text,
      ${outcome?.status === "sent" ? (outcome.ack ?? null) : null}::int,
      ${outcome?.status === "pending" && outcome.uncounted === true}::boolean,
      ${input.release != null}::boolean, ${delay === null || delay === undefined ? null : Math.max(0, Math.round(delay))}::int,
      ${input.take}::text, ${input.messageId ?? null}::text,
      ${outcome?.status === "skipped" ? outcome.reason : null}::text,
      ${limits.dayStart.toISOString()}::timestamptz, ${limits.dailyLimit}::int,
      ${limits.hourStart.toISOString()}::timestamptz, ${limits.hourlyLimit}::int,
      ${zones === null ? null : `{${zones.map((zone) => `"${zone.replace(/["\\]/g, "")}"`).join(",")}}`}::text[])`,
  );
  if (!row) throw new Error("wc_send_step returned no row");
  const recipient: SendingRecipient | null =
    row.id !== null && row.phone !== null && row.chat_id !== null && row.rendered_text !== null && row.attempts !== null
      ? { id: row.id, phone: row.phone, chatId: row.chat_id, renderedText: row.rendered_text, attempts: Number(row.attempts), wahaMessageId: row.waha_message_id }
      : null;
  return {
    leaseOk: bool(row.lease_ok),
    settled: bool(row.settled),
    slotTaken: bool(row.slot_taken),
    recipient,
    hasPending: bool(row.has_pending),
    waitMs: row.wait_ms === null ? 0 : Number(row.wait_ms),
    slotBusy: bool(row.slot_busy),
    held: row.held === "restricted" || row.held === "daily_limit" || row.held === "hourly_limit" ? row.held : null,
    heldUntil: row.held_until === null ? null : new Date(row.held_until),
    consecutiveFailures: row.consecutive_failures === null ? null : Number(row.consecutive_failures),
  };
}

const ms = (value: number) => sql`(${Math.max(0, Math.round(value))}::int * interval '1 millisecond')`;

/**
 * Before a retry (or a recovery look-up): re-checks that the campaign is still ours and Running and
 * the recipient still ours, extends the slot, and counts the attempt when `countAttempt`.
 * Null when any of that no longer holds: do not send.
 */
export async function refreshSending(
  db: Db,
  key: SlotKey,
  recipient: { id: string; attempts: number },
  countAttempt: boolean,
): Promise<{ attempts: number } | null> {
  const rows = await queryRows<{ attempts: number | null; slot_ok: boolean }>(db, sql`
    with campaign as (
      select c.id from campaigns c
       where c.id = ${key.campaignId} and c.status = 'Running' and c.lease_holder = ${key.holder}
       for share
    ), s as (
      update whatsapp_sessions w set send_slot_expires_at = now() + ${ms(key.slotTtlMs)}
       where w.id = ${key.sessionId} and w.send_slot_holder = ${key.slotHolder} and exists (select 1 from campaign)
      returning w.id
    ), r as (
      update campaign_recipients
         set attempts = attempts + ${countAttempt ? 1 : 0}, sending_started_at = now()
       where id = ${recipient.id}::int8 and status = 'sending' and attempts = ${recipient.attempts}
         and exists (select 1 from s)
      returning attempts
    )
    select (select attempts from r) as attempts, exists (select 1 from s) as slot_ok
  `);
  const row = rows[0];
  if (!row || row.attempts === null || row.attempts === undefined) return null;
  return { attempts: Number(row.attempts) };
}

/** Extends our slot (recovery look-ups on a long list of rows). */
export async function extendSlot(db: Db, key: SlotKey): Promise<boolean> {
  const rows = await queryRows<{ id: string }>(db, sql`
    update whatsapp_sessions s set send_slot_expires_at = now() + ${ms(key.slotTtlMs)}
     where s.id = ${key.sessionId} and s.send_slot_holder = ${key.slotHolder}
    returning s.id::text as id
  `);
  return rows.length > 0;
}

/** Recipients of the campaign left in `sending` (by a crash, or by a runner that lost the campaign). */
export async function listSendingRecipients(
  db: Db,
  campaignId: string,
  /** Only the rows this number took (issue 15); rows taken before issue 15 count as the campaign's first number's. */
  sessionId?: string,
): Promise<Array<SendingRecipient & { sendingStartedAtMs: number | null }>> {
  const rows = await queryRows<{
    id: string;
    phone: string;
    chat_id: string;
    rendered_text: string;
    attempts: number;
    waha_message_id: string | null;
    started_ms: number | null;
  }>(db, sql`
    select id::text as id, phone, chat_id, rendered_text, attempts, waha_message_id,
           (extract(epoch from sending_started_at) * 1000)::float8 as started_ms
      from campaign_recipients
     where campaign_id = ${campaignId} and status = 'sending'
       ${sessionId === undefined ? sql`` : sql`and (session_id = ${sessionId} or (session_id is null and ${sessionId}::uuid = (select c.session_id from campaigns c where c.id = ${campaignId})))`}
     order by position
  `);
  return rows.map((row) => ({
    id: row.id,
    phone: row.phone,
    chatId: row.chat_id,
    renderedText: row.rendered_text,
    attempts: Number(row.attempts),
    wahaMessageId: row.waha_message_id,
    sendingStartedAtMs: row.started_ms === null ? null : Number(row.started_ms),
  }));
}

function bool(value: unknown): boolean {
  // node-postgres gives booleans; be lenient with "t"/"true" from other drivers.
  return value === true || value === "t" || value === "true" || value === 1;
}
