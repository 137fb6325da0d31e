/**
 * Claims counted by the database itself, whichever process made them: a trigger on `campaigns` (in
 * the test's own database only) records every claim, i.e. every change that makes a campaign
 * `Running` under a lease holder it did not have (a start, a takeover, a resume). Lease renewals
 * (same holder) are not claims.
 */
import { sql } from "drizzle-orm";
import { type Db, queryRows } from "~/server/db/client";

export async function recordClaims(db: Db): Promise<void> {
  await db.execute(sql.raw(`
    create table if not exists test_campaign_claims (
      id bigint generated always as identity primary key,
      campaign_id uuid not null,
      holder text not null,
      at timestamptz not null default clock_timestamp()
    )`));
  await db.execute(sql.raw(`
    create or replace function test_record_campaign_claim() returns trigger language plpgsql as $$
    begin
      insert into test_campaign_claims (campaign_id, holder) values (new.id, new.lease_holder);
      return null;
    end $$`));
  await db.execute(sql.raw(`drop trigger if exists test_record_campaign_claim on campaigns`));
  await db.execute(sql.raw(`
    create trigger test_record_campaign_claim after update on campaigns for each row
    when (new.status = 'Running' and new.lease_holder is not null
          and (old.status is distinct from 'Running' or old.lease_holder is distinct from new.lease_holder))
    execute function test_record_campaign_claim()`));
}

export interface Claim {
  campaignId: string;
  /** The run's lease holder, `${holderId}/${runToken}`; holderId names the process. */
  holder: string;
}

/** Every claim recorded since recordClaims(), in order, for the given campaigns (all when omitted). */
export async function claims(db: Db, campaignIds?: string[]): Promise<Claim[]> {
  const rows = await queryRows<{ campaign_id: string; holder: string }>(db, sql`select campaign_id, holder from test_campaign_claims order by id`);
  const wanted = campaignIds ? new Set(campaignIds) : null;
  return rows.filter((row) => !wanted || wanted.has(row.campaign_id)).map((row) => ({ campaignId: row.campaign_id, holder: row.holder }));
}
