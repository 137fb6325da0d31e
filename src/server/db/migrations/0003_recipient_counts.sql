CREATE TABLE "campaign_recipient_counts" (
	"campaign_id" uuid NOT NULL,
	"status" "recipient_status" NOT NULL,
	"n" integer NOT NULL,
	CONSTRAINT "campaign_recipient_counts_campaign_id_status_pk" PRIMARY KEY("campaign_id","status")
);
--> statement-breakpoint
ALTER TABLE "campaign_recipient_counts" ADD CONSTRAINT "campaign_recipient_counts_campaign_id_campaigns_id_fk" FOREIGN KEY ("campaign_id") REFERENCES "public"."campaigns"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
-- Kept per statement (transition tables), so a bulk insert of a million recipients is one aggregate,
-- and the send loop's one-row updates cost a tiny aggregate each.
CREATE OR REPLACE FUNCTION wc_count_recipients() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO campaign_recipient_counts AS c (campaign_id, status, n)
    SELECT campaign_id, status, count(*)::int FROM new_rows GROUP BY 1, 2
    ON CONFLICT (campaign_id, status) DO UPDATE SET n = c.n + excluded.n;
  ELSIF TG_OP = 'UPDATE' THEN
    INSERT INTO campaign_recipient_counts AS c (campaign_id, status, n)
    SELECT campaign_id, status, sum(d)::int FROM (
      SELECT campaign_id, status, -1 AS d FROM old_rows
      UNION ALL
      SELECT campaign_id, status, 1 AS d FROM new_rows
    ) delta GROUP BY 1, 2 HAVING sum(d) <> 0
    ON CONFLICT (campaign_id, status) DO UPDATE SET n = c.n + excluded.n;
  ELSE
    -- Only subtract: the campaign itself may be going (ON DELETE CASCADE), and its counts with it.
    UPDATE campaign_recipient_counts c SET n = c.n - gone.n
      FROM (SELECT campaign_id, status, count(*)::int AS n FROM old_rows GROUP BY 1, 2) gone
     WHERE c.campaign_id = gone.campaign_id AND c.status = gone.status;
  END IF;
  RETURN NULL;
END
$$;
--> statement-breakpoint
CREATE TRIGGER campaign_recipients_count_insert AFTER INSERT ON campaign_recipients
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION wc_count_recipients();
--> statement-breakpoint
CREATE TRIGGER campaign_recipients_count_update AFTER UPDATE ON campaign_recipients
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION wc_count_recipients();
--> statement-breakpoint
CREATE TRIGGER campaign_recipients_count_delete AFTER DELETE ON campaign_recipients
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION wc_count_recipients();
--> statement-breakpoint
INSERT INTO campaign_recipient_counts (campaign_id, status, n)
SELECT campaign_id, status, count(*)::int FROM campaign_recipients GROUP BY 1, 2;
