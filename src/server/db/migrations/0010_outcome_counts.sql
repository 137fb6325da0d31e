CREATE TABLE "campaign_outcome_counts" (
	"campaign_id" uuid PRIMARY KEY NOT NULL,
	"delivered" integer DEFAULT 0 NOT NULL,
	"read" integer DEFAULT 0 NOT NULL,
	"replied" integer DEFAULT 0 NOT NULL
);
--> statement-breakpoint
ALTER TABLE "campaign_outcome_counts" ADD CONSTRAINT "campaign_outcome_counts_campaign_id_campaigns_id_fk" FOREIGN KEY ("campaign_id") REFERENCES "public"."campaigns"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
-- Issue 14: the funnel's counters, kept per statement like wc_count_recipients (transition tables).
-- A send step's one-row update changes no indicator, so HAVING leaves nothing to write.
CREATE OR REPLACE FUNCTION wc_count_outcomes() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO campaign_outcome_counts AS c (campaign_id, delivered, read, replied)
    SELECT campaign_id, count(*) FILTER (WHERE ack >= 2)::int, count(*) FILTER (WHERE ack >= 3)::int, count(*) FILTER (WHERE replied_at IS NOT NULL)::int
      FROM new_rows GROUP BY 1
    HAVING count(*) FILTER (WHERE ack >= 2 OR replied_at IS NOT NULL) > 0
    ON CONFLICT (campaign_id) DO UPDATE SET delivered = c.delivered + excluded.delivered, read = c.read + excluded.read, replied = c.replied + excluded.replied;
  ELSE
    INSERT INTO campaign_outcome_counts AS c (campaign_id, delivered, read, replied)
    SELECT campaign_id, sum(dd)::int, sum(dr)::int, sum(dp)::int FROM (
      SELECT campaign_id, -(coalesce(ack, 0) >= 2)::int AS dd, -(coalesce(ack, 0) >= 3)::int AS dr, -(replied_at IS NOT NULL)::int AS dp FROM old_rows
      UNION ALL
      SELECT campaign_id, (coalesce(ack, 0) >= 2)::int, (coalesce(ack, 0) >= 3)::int, (replied_at IS NOT NULL)::int FROM new_rows
    ) delta GROUP BY 1 HAVING sum(dd) <> 0 OR sum(dr) <> 0 OR sum(dp) <> 0
    ON CONFLICT (campaign_id) DO UPDATE SET delivered = c.delivered + excluded.delivered, read = c.read + excluded.read, replied = c.replied + excluded.replied;
  END IF;
  RETURN NULL;
END
$$;
--> statement-breakpoint
CREATE TRIGGER campaign_recipients_outcomes_insert AFTER INSERT ON campaign_recipients
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION wc_count_outcomes();
--> statement-breakpoint
CREATE TRIGGER campaign_recipients_outcomes_update AFTER UPDATE ON campaign_recipients
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION wc_count_outcomes();
--> statement-breakpoint
INSERT INTO campaign_outcome_counts (campaign_id, delivered, read, replied)
SELECT campaign_id, count(*) FILTER (WHERE ack >= 2)::int, count(*) FILTER (WHERE ack >= 3)::int, count(*) FILTER (WHERE replied_at IS NOT NULL)::int
  FROM campaign_recipients GROUP BY 1;
