/**
 * Bulk seeding in SQL (generate_series), never row by row: 100,000 campaigns or 1,000,000 recipient
 * rows take seconds. Works on both backends through Drizzle's `execute`. Ids are md5-derived from a
 * salt (see `uid`), so a seed can refer to its own rows without reading them back.
 */
import { randomBytes } from "node:crypto";
import { type SQL, sql } from "drizzle-orm";
import type { Db } from "~/server/db/client";

export const MESSAGE = "Hello {{first_name|there}}, this is a benchmark message.";

const iso = (ms: number) => new Date(ms).toISOString();

/** A UUID derived from `key` (md5), with the version-4 and variant bits set: validators accept it as a UUID. */
export const uid = (key: SQL) => sql`(overlay(overlay(md5(${key}) placing '4' from 13) placing '8' from 17))::uuid`;

async function rows<T>(db: Db, query: ReturnType<typeof sql>): Promise<T[]> {
  return ((await db.execute(query)) as unknown as { rows: T[] }).rows;
}

export async function createWorkspace(db: Db, name: string): Promise<string> {
  const [row] = await rows<{ id: string }>(db, sql`insert into workspaces (name) values (${name}) returning id::text as id`);
  return row!.id;
}

function salt(): string {
  return randomBytes(4).toString("hex");
}

/**
 * `n` campaigns, each with its own WhatsApp session (`${sessionPrefix}${i}`), list and one contact,
 * due evenly across [firstDueMs, firstDueMs + windowMs). One number per campaign: start precision
 * is measured without the per-number pacing serialising the sends.
 */
export async function seedPrecision(
  db: Db,
  input: { n: number; firstDueMs: number; windowMs: number; sessionPrefix: string },
): Promise<{ workspaceId: string }> {
  const s = salt();
  const workspaceId = await createWorkspace(db, `bench precision ${s}`);
  const n = input.n;
  await db.execute(sql`
    insert into whatsapp_sessions (id, workspace_id, name, waha_session_name, status)
    select ${uid(sql`${s} || 's' || i`)}, ${workspaceId}::uuid, 'Number ' || i, ${input.sessionPrefix} || i, 'WORKING'
      from generate_series(1, ${n}::int) i`);
  await db.execute(sql`
    insert into contacts (id, workspace_id, phone, first_name)
    select ${uid(sql`${s} || 'c' || i`)}, ${workspaceId}::uuid, '+1555' || lpad(i::text, 7, '0'), 'Contact' || i
      from generate_series(1, ${n}::int) i`);
  await db.execute(sql`
    insert into contact_lists (id, workspace_id, name)
    select ${uid(sql`${s} || 'l' || i`)}, ${workspaceId}::uuid, 'List ' || i from generate_series(1, ${n}::int) i`);
  await db.execute(sql`
    insert into contact_list_members (list_id, contact_id)
    select ${uid(sql`${s} || 'l' || i`)}, ${uid(sql`${s} || 'c' || i`)} from generate_series(1, ${n}::int) i`);
  await db.execute(sql`
    insert into campaigns (id, workspace_id, name, list_id, message_text, session_id, scheduled_at, status, delay_min_ms, delay_max_ms)
    select ${uid(sql`${s} || 'k' || i`)}, ${workspaceId}::uuid, 'Campaign ' || i, ${uid(sql`${s} || 'l' || i`)}, ${MESSAGE},
           ${uid(sql`${s} || 's' || i`)},
           ${iso(input.firstDueMs)}::timestamptz + ((i - 1) * ${input.windowMs / n}::float8) * interval '1 millisecond',
           'Scheduled', 0, 0
      from generate_series(1, ${n}::int) i`);
  return { workspaceId };
}

/** `n` Scheduled campaigns spread evenly over [firstDueMs, firstDueMs + spanMs), one session, one one-contact list. */
export async function seedScheduleScale(db: Db, input: { n: number; firstDueMs: number; spanMs: number }): Promise<void> {
  const s = salt();
  const workspaceId = await createWorkspace(db, `bench scale ${s}`);
  const [session] = await rows<{ id: string }>(db, sql`
    insert into whatsapp_sessions (workspace_id, name, waha_session_name, status)
    values (${workspaceId}::uuid, 'Number', ${`bench-scale-${s}`}, 'WORKING') returning id::text as id`);
  const [list] = await rows<{ id: string }>(db, sql`
    insert into contact_lists (workspace_id, name) values (${workspaceId}::uuid, 'List') returning id::text as id`);
  await db.execute(sql`
    with c as (insert into contacts (workspace_id, phone, first_name) values (${workspaceId}::uuid, '+15550000001', 'Ann') returning id)
    insert into contact_list_members (list_id, contact_id) select ${list!.id}::uuid, c.id from c`);
  await db.execute(sql`
    insert into campaigns (workspace_id, name, list_id, message_text, session_id, scheduled_at, status, delay_min_ms, delay_max_ms)
    select ${workspaceId}::uuid, 'Campaign ' || i, ${list!.id}::uuid, ${MESSAGE}, ${session!.id}::uuid,
           ${iso(input.firstDueMs)}::timestamptz + ((i - 1) * ${input.spanMs / input.n}::float8) * interval '1 millisecond',
           'Scheduled', 6000, 12000
      from generate_series(1, ${input.n}::int) i`);
}

/**
 * `sessions` campaigns, each on its own session (`${sessionPrefix}${i}`) with its own list of
 * `recipientsPerCampaign` contacts, due now (claimable at once), no delay between messages.
 */
export async function seedSending(
  db: Db,
  input: { sessions: number; recipientsPerCampaign: number; sessionPrefix: string },
): Promise<{ campaignIds: string[] }> {
  const s = salt();
  const workspaceId = await createWorkspace(db, `bench sending ${s}`);
  const total = input.sessions * input.recipientsPerCampaign;
  await db.execute(sql`
    insert into whatsapp_sessions (id, workspace_id, name, waha_session_name, status)
    select ${uid(sql`${s} || 's' || i`)}, ${workspaceId}::uuid, 'Number ' || i, ${input.sessionPrefix} || i, 'WORKING'
      from generate_series(1, ${input.sessions}::int) i`);
  await db.execute(sql`
    insert into contact_lists (id, workspace_id, name)
    select ${uid(sql`${s} || 'l' || i`)}, ${workspaceId}::uuid, 'List ' || i from generate_series(1, ${input.sessions}::int) i`);
  await db.execute(sql`
    insert into contacts (id, workspace_id, phone, first_name)
    select ${uid(sql`${s} || 'c' || i`)}, ${workspaceId}::uuid, '+1' || (2000000000 + i)::text, 'Contact' || i
      from generate_series(1, ${total}::int) i`);
  await db.execute(sql`
    insert into contact_list_members (list_id, contact_id)
    select ${uid(sql`${s} || 'l' || ((i - 1) / ${input.recipientsPerCampaign}::int + 1)`)}, ${uid(sql`${s} || 'c' || i`)}
      from generate_series(1, ${total}::int) i`);
  const created = await rows<{ id: string }>(db, sql`
    insert into campaigns (id, workspace_id, name, list_id, message_text, session_id, scheduled_at, status, delay_min_ms, delay_max_ms)
    select ${uid(sql`${s} || 'k' || i`)}, ${workspaceId}::uuid, 'Campaign ' || i, ${uid(sql`${s} || 'l' || i`)}, ${MESSAGE},
           ${uid(sql`${s} || 's' || i`)}, now() - interval '1 second', 'Scheduled', 0, 0
      from generate_series(1, ${input.sessions}::int) i
    returning id::text as id`);
  return { campaignIds: created.map((row) => row.id) };
}

export interface ApiSeed {
  /** The newest campaign: `largeRecipients` rows, half still pending (a campaign being sent). */
  largeCampaignId: string;
  /** A finished campaign of typical size, in the middle of the list. */
  typicalCampaignId: string;
  typicalRecipients: number;
  largeRecipients: number;
  /** A campaign of its own with `millionRecipients` rows (half sent), when asked for. */
  millionCampaignId: string | null;
}

/**
 * `campaigns` campaigns in `workspaceId` (the newest first in the list) and `recipients` rows in
 * all: a tenth in the newest campaign, the rest spread evenly. Finished campaigns are 95% sent, 5% failed.
 */
export async function seedApi(db: Db, input: { workspaceId: string; campaigns: number; recipients: number; millionRecipients?: number }): Promise<ApiSeed> {
  const s = salt();
  const { workspaceId } = input;
  const [session] = await rows<{ id: string }>(db, sql`
    insert into whatsapp_sessions (workspace_id, name, waha_session_name, status)
    values (${workspaceId}::uuid, 'Number', ${`bench-api-${s}`}, 'WORKING') returning id::text as id`);
  const [list] = await rows<{ id: string }>(db, sql`
    insert into contact_lists (workspace_id, name) values (${workspaceId}::uuid, 'List') returning id::text as id`);
  const largeRecipients = Math.round(input.recipients / 10);
  const typicalRecipients = Math.floor((input.recipients - largeRecipients) / (input.campaigns - 1));
  const large = largeRecipients + (input.recipients - largeRecipients - typicalRecipients * (input.campaigns - 1));
  await db.execute(sql`
    insert into campaigns (id, workspace_id, name, list_id, message_text, session_id, scheduled_at, status, delay_min_ms, delay_max_ms,
                           started_at, completed_at, recipients_materialized_at, created_at, updated_at)
    select ${uid(sql`${s} || 'k' || i`)}, ${workspaceId}::uuid, 'Campaign ' || i, ${list!.id}::uuid, ${MESSAGE}, ${session!.id}::uuid,
           now() - i * interval '1 minute',
           (case when i = 1 then 'Paused' else 'Completed' end)::campaign_status, 6000, 12000,
           now() - i * interval '1 minute',
           case when i = 1 then null else now() - i * interval '1 minute' + interval '30 seconds' end,
           now() - i * interval '1 minute',
           now() - i * interval '1 minute', now() - i * interval '1 minute'
      from generate_series(1, ${input.campaigns}::int) i`);
  await db.execute(sql`
    insert into campaign_recipients (campaign_id, position, phone, chat_id, rendered_text, status, attempts, sent_at)
    select ${uid(sql`${s} || 'k' || c`)}, p, '+1' || (2000000000 + p)::text, (12000000000 + p)::text || '@c.us', 'Hello there, this is a message.',
           (case when p % 20 = 7 then 'failed' else 'sent' end)::recipient_status, 1,
           case when p % 20 = 7 then null else now() - c * interval '1 minute' end
      from generate_series(2, ${input.campaigns}::int) c, generate_series(0, ${typicalRecipients - 1}::int) p`);
  await db.execute(sql`
    insert into campaign_recipients (campaign_id, position, phone, chat_id, rendered_text, status, attempts, sent_at)
    select ${uid(sql`${s} || 'k1'`)}, p, '+1' || (2000000000 + p)::text, (12000000000 + p)::text || '@c.us', 'Hello there, this is a message.',
           (case when p >= ${Math.floor(large / 2)}::int then 'pending' when p % 20 = 7 then 'failed' else 'sent' end)::recipient_status,
           case when p >= ${Math.floor(large / 2)}::int then 0 else 1 end,
           case when p >= ${Math.floor(large / 2)}::int or p % 20 = 7 then null else now() end
      from generate_series(0, ${large - 1}::int) p`);
  const [ids] = await rows<{ large: string; typical: string; million: string }>(db, sql`
    select ${uid(sql`${s} || 'k1'`)}::text as large, ${uid(sql`${s} || 'k' || ${Math.ceil(input.campaigns / 2)}::int`)}::text as typical,
           ${uid(sql`${s} || 'million'`)}::text as million`);
  if (input.millionRecipients) {
    await db.execute(sql`
      insert into campaigns (id, workspace_id, name, list_id, message_text, session_id, scheduled_at, status, delay_min_ms, delay_max_ms,
                             started_at, recipients_materialized_at, created_at, updated_at)
      values (${ids!.million}::uuid, ${workspaceId}::uuid, 'A million', ${list!.id}::uuid, ${MESSAGE}, ${session!.id}::uuid, now() - interval '1 day',
              'Paused', 6000, 12000, now() - interval '1 day', now() - interval '1 day', now() - interval '1 day', now())`);
    await db.execute(sql`
      insert into campaign_recipients (campaign_id, position, phone, chat_id, rendered_text, status, attempts, sent_at)
      select ${ids!.million}::uuid, p, '+1' || (3000000000 + p)::text, (13000000000 + p)::text || '@c.us', 'Hello there, this is a message.',
             (case when p % 2 = 0 then 'pending' else 'sent' end)::recipient_status, p % 2, case when p % 2 = 0 then null else now() end
        from generate_series(0, ${input.millionRecipients - 1}::int) p`);
  }
  return {
    largeCampaignId: ids!.large,
    typicalCampaignId: ids!.typical,
    typicalRecipients,
    largeRecipients: large,
    millionCampaignId: input.millionRecipients ? ids!.million : null,
  };
}
