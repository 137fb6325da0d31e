/**
 * The hot path's SQL. A WhatsApp session's send slot (`whatsapp_sessions.send_slot_holder` until
 * `send_slot_expires_at`, and no send before `next_send_at`) paces sends per number across every
 * campaign and process. A recipient is only ever `sending` while its runner holds that slot, so
 * "the slot is free or expired" means "no send is in flight on this number".
 *
 * Per message, one or two statements, each planned once (runner/prepared.ts):
 * - `takeSlotAndNext`: campaign still ours + slot + next recipient -> `sending` with its message id;
 * - `settleRecipient`: the outcome + slot release with the next delay;
 * - or, when the delay is 0 and no other campaign uses the number, `settleAndTakeNext`: the outcome
 *   and the next recipient in one statement, keeping the slot (1 statement per message).
 */
import { type SQL, sql } from "drizzle-orm";
import { type Db, queryRows } from "~/server/db/client";
import type { RecipientStatus } from "~/server/db/schema";
import { type ParamValue, preparedStatement, runPrepared } from "./prepared";

export interface SlotKey {
  campaignId: string;
  sessionId: string;
  /** The campaign's lease holder: every statement re-checks that the campaign is still ours and Running. */
  holder: string;
  /** Our token in `send_slot_holder`; ends with `|<campaignId>` (cancel waits on that). */
  slotHolder: string;
  slotTtlMs: number;
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

export interface TakeResult {
  /** False: the campaign is no longer Running under our lease (paused, cancelled, deleted, taken over). */
  leaseOk: boolean;
  slotTaken: boolean;
  /** The recipient now `sending` under our slot; null when none is pending (or `pick` was false). */
  recipient: SendingRecipient | null;
  /** Whether any recipient was pending (as of the statement's start). */
  hasPending: boolean;
  /** When the slot was not taken: how long until `next_send_at`, or until a busy slot expires. */
  waitMs: number;
  /** When the slot was not taken: someone holds it (a send in flight), as opposed to the delay. */
  slotBusy: boolean;
  /** Another campaign is Running on the same number (then runners take turns). */
  sharedNumber: boolean;
}

export function slotHolderFor(holder: string, campaignId: string): string {
  return `${holder}|${campaignId}`;
}

const ms = (value: number): SQL => sql`(${Math.max(0, Math.round(value))}::int * interval '1 millisecond')`;

const TAKE_COLUMNS = `
      exists (select 1 from campaign) as lease_ok,
      exists (select 1 from slot) as slot_taken,
      exists (select 1 from campaign_recipients q where q.campaign_id = $1 and q.status = 'pending') as has_pending,
      (select (greatest(0, extract(epoch from (
                 greatest(coalesce(w.next_send_at, now()),
                          case when w.send_slot_holder is not null and w.send_slot_expires_at > now() then w.send_slot_expires_at else now() end)
                 - now())) * 1000))::float8
         from whatsapp_sessions w where w.id = $3) as wait_ms,
      (select w.send_slot_holder is not null and w.send_slot_expires_at > now()
         from whatsapp_sessions w where w.id = $3) as slot_busy,
      exists (select 1 from campaigns o
               where o.session_id = $3 and o.status = 'Running' and o.id <> $1) as shared_number`;

/** The campaign, locked FOR SHARE: a concurrent cancel either waits for this statement or is seen by it. */
const CAMPAIGN_AND_SLOT = `
    with campaign as (
      select c.id from campaigns c
       where c.id = $1 and c.status = 'Running' and c.lease_holder = $2
       for share
    ), slot as (
      update whatsapp_sessions s
         set send_slot_holder = $4, send_slot_expires_at = now() + $5::int * interval '1 millisecond'
       where s.id = $3
         and exists (select 1 from campaign)
         and (s.send_slot_holder is null or s.send_slot_expires_at is null or s.send_slot_expires_at <= now())
         and (s.next_send_at is null or s.next_send_at <= now())
      returning s.id
    )`;

/** $1 campaign, $2 lease holder, $3 session, $4 slot holder, $5 slot TTL ms, $6 message id. */
const TAKE_NEXT = preparedStatement(
  "take_next",
  `${CAMPAIGN_AND_SLOT}, picked as (
      update campaign_recipients r
         set status = 'sending', waha_message_id = $6::text, sending_started_at = now(),
             attempts = r.attempts + 1, last_error = null
       where r.id = (select p.id from campaign_recipients p
                      where p.campaign_id = $1 and p.status = 'pending'
                      order by p.position limit 1 for update skip locked)
         and exists (select 1 from slot)
      returning r.id::text as id, r.phone, r.chat_id, r.rendered_text, r.attempts, r.waha_message_id
    )
    select ${TAKE_COLUMNS}, picked.*
    from (select 1) as one left join picked on true`,
  ["uuid", "text", "uuid", "text", "int", "text"],
);

/** The slot alone (recovery): $1..$5 as TAKE_NEXT. */
const TAKE_SLOT = preparedStatement(
  "take_slot",
  `${CAMPAIGN_AND_SLOT}
    select ${TAKE_COLUMNS}, null::text as id, null::text as phone, null::text as chat_id, null::text as rendered_text,
           null::int as attempts, null::text as waha_message_id`,
  ["uuid", "text", "uuid", "text", "int"],
);

/**
 * One statement: lock-check the campaign, take the session's slot if it is free and the delay has
 * passed, and (when `pick`) move the next pending recipient to `sending` with the message id fixed
 * before the call.
 */
export async function takeSlotAndNext(db: Db, key: SlotKey, options: { pick: boolean; messageId: string | null }): Promise<TakeResult> {
  const common: ParamValue[] = [key.campaignId, key.holder, key.sessionId, key.slotHolder, Math.round(key.slotTtlMs)];
  const rows = await runPrepared<TakeRow>(db, options.pick ? TAKE_NEXT : TAKE_SLOT, options.pick ? [...common, options.messageId] : common);
  return toTakeResult(rows[0]);
}

interface TakeRow {
  lease_ok: boolean;
  slot_taken: boolean;
  has_pending: boolean;
  wait_ms: number | null;
  slot_busy: boolean | null;
  shared_number: boolean;
  id: string | null;
  phone: string | null;
  chat_id: string | null;
  rendered_text: string | null;
  attempts: number | null;
  waha_message_id: string | null;
}

function toTakeResult(row: TakeRow | undefined): TakeResult {
  if (!row) throw new Error("the take statement returned no row");
  const recipient: SendingRecipient | null =
    row.id !== null && row.phone !== null && row.chat_id !== null && row.rendered_text !== null && row.attempts !== null
      ? {
          id: row.id,
          phone: row.phone,
          chatId: row.chat_id,
          renderedText: row.rendered_text,
          attempts: Number(row.attempts),
          wahaMessageId: row.waha_message_id,
        }
      : null;
  return {
    leaseOk: bool(row.lease_ok),
    slotTaken: bool(row.slot_taken),
    recipient,
    hasPending: bool(row.has_pending),
    waitMs: row.wait_ms === null ? 0 : Number(row.wait_ms),
    slotBusy: bool(row.slot_busy),
    sharedNumber: bool(row.shared_number),
  };
}

export type RecipientOutcome =
  | { status: "sent"; wahaMessageId: string; ack?: number | null }
  | { status: "failed"; error: string }
  | { status: "pending"; error?: string | null }
  | { status: "unknown"; error: string };

/**
 * The UPDATE that records a `sending` recipient's outcome, only if it is still ours (same attempt),
 * shared by SETTLE and SETTLE_AND_TAKE_NEXT. Its six parameters start at $first: recipient id,
 * attempt token, status, WAHA message id (sent), error, ack.
 */
function settleRecipientSql(first: number): string {
  const [id, attempt, status, messageId, error, ack] = [0, 1, 2, 3, 4, 5].map((offset) => `$${first + offset}`);
  return `update campaign_recipients
         set status = ${status}::text::recipient_status,
             waha_message_id = case ${status}::text when 'pending' then null when 'sent' then ${messageId}::text else waha_message_id end,
             sent_at = case when ${status}::text = 'sent' then now() else sent_at end,
             sending_started_at = case when ${status}::text = 'pending' then null else sending_started_at end,
             last_error = ${error}::text,
             ack = coalesce(${ack}::int, ack),
             ack_at = case when ${ack}::int is null then ack_at else now() end
       where id = ${id}::text::int8 and status = 'sending' and attempts = ${attempt}::int
      returning id`;
}

/**
 * $1 recipient id, $2 attempt token, $3 status, $4 WAHA message id (sent), $5 error, $6 ack,
 * $7 session, $8 slot holder, $9 release the slot?, $10 next delay ms (null: keep next_send_at).
 */
const SETTLE = preparedStatement(
  "settle",
  `
    with r as (
${settleRecipientSql(1)}
    ), s as (
      update whatsapp_sessions w
         set send_slot_holder = null, send_slot_expires_at = null,
             next_send_at = case when $10::int is null then w.next_send_at else now() + $10::int * interval '1 millisecond' end
       where $9::boolean and w.id = $7::uuid and w.send_slot_holder = $8::text
      returning w.id
    )
    select exists (select 1 from r) as recipient_updated, exists (select 1 from s) as slot_released`,
  ["text", "int", "text", "text", "text", "int", "uuid", "text", "boolean", "int"],
);

/**
 * One statement: record a `sending` recipient's outcome (only if it is still ours: same attempt) and,
 * when `release` is set, free the slot; `nextDelayMs` (null = leave `next_send_at` alone) is the pause
 * before the number's next send.
 */
export async function settleRecipient(
  db: Db,
  key: SlotKey,
  recipient: { id: string; attempts: number },
  outcome: RecipientOutcome,
  release: { release: boolean; nextDelayMs: number | null },
): Promise<{ recipientUpdated: boolean; slotReleased: boolean }> {
  const status: RecipientStatus = outcome.status;
  const rows = await runPrepared<{ recipient_updated: boolean; slot_released: boolean }>(db, SETTLE, [
    recipient.id,
    recipient.attempts,
    status,
    outcome.status === "sent" ? outcome.wahaMessageId : null,
    outcome.status === "sent" ? null : (outcome.error ?? null),
    outcome.status === "sent" ? (outcome.ack ?? null) : null,
    key.sessionId,
    key.slotHolder,
    release.release,
    release.nextDelayMs === null ? null : Math.max(0, Math.round(release.nextDelayMs)),
  ]);
  const row = rows[0];
  return { recipientUpdated: bool(row?.recipient_updated), slotReleased: bool(row?.slot_released) };
}

/**
 * The fast path, one statement per message: record the previous recipient's outcome and, if the
 * campaign is still ours, keep the number's slot and move the next pending recipient to `sending`
 * (else free the slot). Only for a number no other campaign is using and a next delay of 0, where
 * releasing and re-taking the slot would be the same thing.
 * $1..$6 as TAKE_NEXT; $7 previous recipient id, $8 its attempt token, $9 status, $10 WAHA message id,
 * $11 error, $12 ack, $13 next delay ms (null: keep next_send_at).
 */
const SETTLE_AND_TAKE_NEXT = preparedStatement(
  "settle_take_next",
  `
    with settled as (
${settleRecipientSql(7)}
    ), campaign as (
      select c.id from campaigns c
       where c.id = $1 and c.status = 'Running' and c.lease_holder = $2
       for share
    ), decision as (
      -- Keep the slot only while the campaign is ours and no other campaign shares the number.
      select exists (select 1 from campaign)
             and not exists (select 1 from campaigns o where o.session_id = $3 and o.status = 'Running' and o.id <> $1) as keep
    ), kept as (
      update whatsapp_sessions w
         set send_slot_holder = case when (select keep from decision) then w.send_slot_holder end,
             send_slot_expires_at = case when (select keep from decision) then now() + $5::int * interval '1 millisecond' end,
             next_send_at = case when $13::int is null then w.next_send_at else now() + $13::int * interval '1 millisecond' end
       where w.id = $3 and w.send_slot_holder = $4::text
      returning case when (select keep from decision) then w.id end as id
    ), slot as (
      select id from kept where id is not null
    ), picked as (
      update campaign_recipients r
         set status = 'sending', waha_message_id = $6::text, sending_started_at = now(),
             attempts = r.attempts + 1, last_error = null
       where r.id = (select p.id from campaign_recipients p
                      where p.campaign_id = $1 and p.status = 'pending'
                      order by p.position limit 1 for update skip locked)
         and exists (select 1 from slot)
      returning r.id::text as id, r.phone, r.chat_id, r.rendered_text, r.attempts, r.waha_message_id
    )
    select exists (select 1 from campaign) as lease_ok, exists (select 1 from slot) as slot_taken, picked.*
    from (select 1) as one left join picked on true`,
  ["uuid", "text", "uuid", "text", "int", "text", "text", "int", "text", "text", "text", "int", "int"],
);

/**
 * See SETTLE_AND_TAKE_NEXT. Read like `takeSlotAndNext`'s result: `slotTaken` = the slot is still
 * ours; when the campaign is ours but the slot was freed (another campaign now shares the number),
 * `hasPending` is true and `waitMs` 0, so the caller goes on with an ordinary take.
 */
export async function settleAndTakeNext(
  db: Db,
  key: SlotKey,
  previous: { id: string; attempts: number },
  outcome: RecipientOutcome,
  nextDelayMs: number | null,
  messageId: string | null,
): Promise<TakeResult> {
  const rows = await runPrepared<Omit<TakeRow, "has_pending" | "wait_ms" | "slot_busy" | "shared_number">>(db, SETTLE_AND_TAKE_NEXT, [
    key.campaignId,
    key.holder,
    key.sessionId,
    key.slotHolder,
    Math.round(key.slotTtlMs),
    messageId,
    previous.id,
    previous.attempts,
    outcome.status,
    outcome.status === "sent" ? outcome.wahaMessageId : null,
    outcome.status === "sent" ? null : (outcome.error ?? null),
    outcome.status === "sent" ? (outcome.ack ?? null) : null,
    nextDelayMs === null ? null : Math.max(0, Math.round(nextDelayMs)),
  ]);
  const row = rows[0];
  return toTakeResult(row && { ...row, has_pending: true, wait_ms: 0, slot_busy: false, shared_number: false });
}

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

/**
 * A send that provably never reached WAHA does not count against its recipient: takes back the
 * attempt its take counted, once the row is `pending` again under the same token. Rare (an outage),
 * so it is a statement of its own, off the hot path.
 */
export async function uncountAttempt(db: Db, recipient: { id: string; attempts: number }): Promise<void> {
  await queryRows(db, sql`
    update campaign_recipients set attempts = greatest(0, attempts - 1)
     where id = ${recipient.id}::int8 and status = 'pending' and attempts = ${recipient.attempts}
    returning id
  `);
}

/** Frees our slot without touching a recipient (e.g. nothing left to send). */
export async function releaseSlot(db: Db, key: SlotKey, nextDelayMs: number | null): Promise<boolean> {
  const rows = await queryRows<{ id: string }>(db, sql`
    update whatsapp_sessions s
       set send_slot_holder = null, send_slot_expires_at = null,
           next_send_at = ${nextDelayMs === null ? sql`s.next_send_at` : sql`now() + ${ms(nextDelayMs)}`}
     where s.id = ${key.sessionId} and s.send_slot_holder = ${key.slotHolder}
    returning s.id::text as id
  `);
  return rows.length > 0;
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
