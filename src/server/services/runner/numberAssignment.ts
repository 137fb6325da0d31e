/**
 * Campaigns over several numbers (issue 15): which numbers a campaign sends from, and which number
 * a recipient goes to.
 *
 * - A campaign with one number has no campaign_sessions rows: its number is `campaigns.session_id`.
 *   With more, campaign_sessions holds all of them, position 0 being `campaigns.session_id`.
 * - `balanced`: nothing is decided ahead. Recipients stay in a shared pool (`session_id` null) and
 *   whichever number is free next takes one (wc_send_step records the number on the row), so the
 *   numbers finish together whatever their pace, limits or windows.
 * - `sticky`: before sending, each pending recipient whose contact was messaged (sent) before by a
 *   number of the set gets that number (the most recent such send wins); the others stay in the pool.
 * - A number that drops mid-run keeps its recipients (they wait for it), or with `reassignOnDrop`
 *   gives its pending ones back to the pool. Only `pending` rows move, in the statement that checks
 *   it: a row `sending` on that number is settled by recovery, never resent blindly.
 */
import { asc, eq, sql } from "drizzle-orm";
import type { Db } from "~/server/db/client";
import { type Campaign, campaignSessions } from "~/server/db/schema";
import { queryRows } from "~/server/db/client";

/** The campaign's numbers, in order (the first is `campaigns.session_id`). */
export async function campaignNumbers(db: Db, campaign: Pick<Campaign, "id" | "sessionId">): Promise<string[]> {
  const rows = await db
    .select({ sessionId: campaignSessions.sessionId })
    .from(campaignSessions)
    .where(eq(campaignSessions.campaignId, campaign.id))
    .orderBy(asc(campaignSessions.position));
  return rows.length > 0 ? rows.map((row) => row.sessionId) : [campaign.sessionId];
}

/**
 * Sticky numbers: pending recipients still in the pool whose contact a number of `sessionIds` messaged
 * before get that number (the latest such send). Idempotent (only pool rows still pending move), and
 * independent of when the rows were made, so the run calls it at each start. Returns how many moved.
 */
export async function assignStickyNumbers(db: Db, campaignId: string, sessionIds: string[]): Promise<number> {
  if (sessionIds.length < 2) return 0;
  const numbers = sql.join(
    sessionIds.map((id) => sql`${id}::uuid`),
    sql`, `,
  );
  const rows = await queryRows<{ id: string }>(
    db,
    sql`
      update campaign_recipients r
         set session_id = h.session_id
        from (select distinct on (p.id) p.id, coalesce(x.session_id, xc.session_id) as session_id
                from campaign_recipients p
                join campaign_recipients x on x.contact_id = p.contact_id and x.status = 'sent' and x.campaign_id <> p.campaign_id
                join campaigns xc on xc.id = x.campaign_id
               where p.campaign_id = ${campaignId} and p.status = 'pending' and p.session_id is null and p.contact_id is not null
                 and coalesce(x.session_id, xc.session_id) in (${numbers})
               order by p.id, x.sent_at desc nulls last) h
       where r.id = h.id and r.status = 'pending' and r.session_id is null
      returning r.id::text as id`,
  );
  return rows.length;
}

/** A dropped number's pending recipients go back to the pool (reassignOnDrop); rows in flight stay. */
export async function releaseDroppedNumber(db: Db, campaignId: string, sessionId: string): Promise<number> {
  const rows = await queryRows<{ id: string }>(
    db,
    sql`update campaign_recipients set session_id = null
         where campaign_id = ${campaignId} and session_id = ${sessionId} and status = 'pending'
        returning id::text as id`,
  );
  return rows.length;
}

/** Whether pending recipients remain that one of `sessionIds` may take (its own, or the pool). */
export async function hasWorkFor(db: Db, campaignId: string, sessionIds: string[]): Promise<boolean> {
  if (sessionIds.length === 0) return false;
  const numbers = sql.join(
    sessionIds.map((id) => sql`${id}::uuid`),
    sql`, `,
  );
  const rows = await queryRows<{ yes: boolean }>(
    db,
    sql`select (exists (select 1 from campaign_recipients where campaign_id = ${campaignId} and status = 'pending' and session_id is null)
             or exists (select 1 from campaign_recipients where campaign_id = ${campaignId} and status = 'pending' and session_id in (${numbers}))) as yes`,
  );
  return rows[0]?.yes === true;
}
