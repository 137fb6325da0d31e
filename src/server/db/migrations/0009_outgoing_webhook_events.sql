-- Outgoing webhooks (issue 14): campaign and recipient events written to the durable outbox by triggers.
-- Outgoing webhooks (issue 14): campaign and recipient events are written to the outbox by triggers,
-- in the transaction of the change, whoever makes it (the claim, a pause, the send step, an ack).
-- A campaign's status change is rare: a row trigger that fires only when the status changes.
CREATE OR REPLACE FUNCTION wc_webhook_campaign_events() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  event_type text;
BEGIN
  IF NEW.status = 'Running' AND OLD.started_at IS NULL THEN
    event_type := 'campaign.started';
  ELSIF NEW.status = 'Paused' THEN
    event_type := 'campaign.paused';
  ELSIF NEW.status = 'Completed' THEN
    event_type := 'campaign.completed';
  ELSE
    RETURN NULL;
  END IF;
  INSERT INTO webhook_outbox (endpoint_id, event_type, campaign_id, payload)
  SELECT e.id, event_type, NEW.id, jsonb_build_object(
           'campaignId', NEW.id, 'name', NEW.name, 'status', NEW.status, 'pauseReason', NEW.pause_reason,
           'startedAt', NEW.started_at, 'completedAt', NEW.completed_at,
           'counts', coalesce((SELECT jsonb_object_agg(k.status, k.n) FROM campaign_recipient_counts k
                                WHERE k.campaign_id = NEW.id AND k.n <> 0), '{}'::jsonb))
    FROM webhook_endpoints e
   WHERE e.workspace_id = NEW.workspace_id AND e.disabled_at IS NULL AND event_type = ANY(e.events)
   ORDER BY e.id;
  RETURN NULL;
END
$$;
--> statement-breakpoint
CREATE TRIGGER campaigns_webhook_events AFTER UPDATE ON campaigns
  FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status) EXECUTE FUNCTION wc_webhook_campaign_events();
--> statement-breakpoint
-- The send step settles recipients one statement at a time: per statement (transition tables, like the
-- counts), and while no workspace has an endpoint the whole cost is one EXISTS on an empty table.
CREATE OR REPLACE FUNCTION wc_webhook_recipient_events() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM webhook_endpoints WHERE disabled_at IS NULL) THEN
    RETURN NULL;
  END IF;
  INSERT INTO webhook_outbox (endpoint_id, event_type, campaign_id, payload)
  SELECT e.id, 'recipient.' || n.status::text, n.campaign_id, jsonb_build_object(
           'campaignId', n.campaign_id, 'recipientId', n.id, 'contactId', n.contact_id, 'phone', n.phone,
           'status', n.status, 'wahaMessageId', n.waha_message_id, 'sentAt', n.sent_at, 'ack', n.ack,
           'error', CASE WHEN n.status = 'failed' THEN n.last_error END)
    FROM new_rows n
    JOIN old_rows o ON o.id = n.id
    JOIN campaigns c ON c.id = n.campaign_id
    JOIN webhook_endpoints e ON e.workspace_id = c.workspace_id AND e.disabled_at IS NULL
                            AND ('recipient.' || n.status::text) = ANY(e.events)
   WHERE n.status IN ('sent', 'failed') AND o.status IS DISTINCT FROM n.status
   ORDER BY n.id, e.id;
  RETURN NULL;
END
$$;
--> statement-breakpoint
CREATE TRIGGER campaign_recipients_webhook_events AFTER UPDATE ON campaign_recipients
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION wc_webhook_recipient_events();
--> statement-breakpoint
-- The deliverer delivers a row only when no earlier row of the same (endpoint, campaign) is still
-- undelivered (give-ups move next_attempt_at to infinity and stop blocking): one probe of this index.
CREATE INDEX webhook_outbox_order_idx ON webhook_outbox (endpoint_id, campaign_id, id)
  WHERE delivered_at IS NULL AND campaign_id IS NOT NULL AND next_attempt_at <> 'infinity';
