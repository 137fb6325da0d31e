-- Issue 11: the send step keeps its own status counts, in one statement, instead of the three
-- statement-level triggers on campaign_recipients each running their queries twice per message (the
-- settle and the take): on PGlite those queries were about 0.25 ms of a 1.3 ms message.
-- * One AFTER UPDATE trigger (wc_recipients_updated) now does what the three did: status counts,
--   outcome counts (delivered/read/replied), and recipient.sent/failed outbox events.
-- * wc_send_step tells it, through the transaction-local setting wc.send_step, which of its own
--   updates is running: for 'take' the trigger does nothing (pending -> sending/skipped emits no
--   event and the step counts it); for 'settle' it only writes the outbox events (ack and replied_at
--   are unchanged, so the outcome counts are too); for 'settle_ack' (a recovery look-up found an
--   ack) it also counts outcomes. The step then adds its net status delta in one upsert: for the
--   usual message, pending -1 and sent +1. Any other UPDATE (ack, cancel, pause, recovery) sees no
--   setting and is counted by the trigger as before. The setting is reset before the step returns,
--   and an error rolls it back with the transaction.
-- Same signature and result as 0008.
CREATE OR REPLACE FUNCTION wc_recipients_updated() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  v_step text := current_setting('wc.send_step', true);
BEGIN
  IF v_step IS NULL OR v_step NOT IN ('settle', 'settle_ack', 'take') THEN
    INSERT INTO campaign_recipient_counts AS c (campaign_id, status, n)
    SELECT campaign_id, status, sum(d)::int FROM (
      SELECT campaign_id, status, -1 AS d FROM old_rows
      UNION ALL
      SELECT campaign_id, status, 1 AS d FROM new_rows
    ) delta GROUP BY 1, 2 HAVING sum(d) <> 0
    ON CONFLICT (campaign_id, status) DO UPDATE SET n = c.n + excluded.n;
  END IF;
  IF v_step IS NULL OR v_step NOT IN ('settle', 'take') THEN
    INSERT INTO campaign_outcome_counts AS c (campaign_id, delivered, read, replied)
    SELECT campaign_id, sum(dd)::int, sum(dr)::int, sum(dp)::int FROM (
      SELECT campaign_id, -(coalesce(ack, 0) >= 2)::int AS dd, -(coalesce(ack, 0) >= 3)::int AS dr, -(replied_at IS NOT NULL)::int AS dp FROM old_rows
      UNION ALL
      SELECT campaign_id, (coalesce(ack, 0) >= 2)::int, (coalesce(ack, 0) >= 3)::int, (replied_at IS NOT NULL)::int FROM new_rows
    ) delta GROUP BY 1 HAVING sum(dd) <> 0 OR sum(dr) <> 0 OR sum(dp) <> 0
    ON CONFLICT (campaign_id) DO UPDATE SET delivered = c.delivered + excluded.delivered, read = c.read + excluded.read, replied = c.replied + excluded.replied;
  END IF;
  IF v_step IS DISTINCT FROM 'take' AND EXISTS (SELECT 1 FROM webhook_endpoints WHERE disabled_at IS NULL) THEN
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
  END IF;
  RETURN NULL;
END
$$;
--> statement-breakpoint
DROP TRIGGER campaign_recipients_count_update ON campaign_recipients;
--> statement-breakpoint
DROP TRIGGER campaign_recipients_outcomes_update ON campaign_recipients;
--> statement-breakpoint
DROP TRIGGER campaign_recipients_webhook_events ON campaign_recipients;
--> statement-breakpoint
CREATE TRIGGER campaign_recipients_updated AFTER UPDATE ON campaign_recipients
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION wc_recipients_updated();
--> statement-breakpoint
CREATE OR REPLACE FUNCTION wc_send_step(
  p_campaign uuid,
  p_lease_holder text,
  p_session uuid,
  p_slot_holder text,
  p_slot_ttl_ms int,
  p_prev_id bigint,
  p_prev_attempts int,
  p_prev_status text,
  p_prev_waha_id text,
  p_prev_error text,
  p_prev_ack int,
  p_prev_uncount boolean,
  p_release boolean,
  p_next_delay_ms int,
  p_take text,
  p_message_id text,
  p_prev_skip_reason text,
  p_day_start timestamptz,
  p_daily_limit int,
  p_hour_start timestamptz,
  p_hourly_limit int,
  p_open_zones text[]
) RETURNS TABLE (
  lease_ok boolean,
  settled boolean,
  slot_taken boolean,
  has_pending boolean,
  wait_ms float8,
  slot_busy boolean,
  id text,
  phone text,
  chat_id text,
  rendered_text text,
  attempts int,
  waha_message_id text,
  held text,
  held_until timestamptz,
  consecutive_failures int
) LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
  v_released boolean := false;
  v_settled boolean := false;
  -- what the settled outcome does to the number's run of failures: 0 resets, 1 adds one, null keeps
  v_fail int;
  v_count int := CASE WHEN p_take = 'recipient' THEN 1 ELSE 0 END;
  v_opted_out boolean;
  v_skipped int := 0;
  v_prev_campaign uuid;
BEGIN
  settled := false;
  slot_taken := false;
  IF p_prev_id IS NOT NULL THEN
    -- The status counts of this step are kept below, in one statement; the trigger does the rest.
    PERFORM set_config('wc.send_step', CASE WHEN p_prev_ack IS NULL THEN 'settle' ELSE 'settle_ack' END, true);
    UPDATE campaign_recipients r
       SET status = p_prev_status::recipient_status,
           waha_message_id = CASE p_prev_status WHEN 'pending' THEN NULL WHEN 'skipped' THEN NULL WHEN 'sent' THEN p_prev_waha_id ELSE r.waha_message_id END,
           sent_at = CASE WHEN p_prev_status = 'sent' THEN now() ELSE r.sent_at END,
           sending_started_at = CASE WHEN p_prev_status = 'pending' THEN NULL ELSE r.sending_started_at END,
           last_error = p_prev_error,
           skip_reason = CASE WHEN p_prev_status = 'skipped' THEN p_prev_skip_reason ELSE r.skip_reason END,
           ack = coalesce(p_prev_ack, r.ack),
           ack_at = CASE WHEN p_prev_ack IS NULL THEN r.ack_at ELSE now() END,
           attempts = CASE WHEN p_prev_uncount AND p_prev_status = 'pending' THEN greatest(0, r.attempts - 1) ELSE r.attempts END
     WHERE r.id = p_prev_id AND r.status = 'sending' AND r.attempts = p_prev_attempts
    RETURNING r.campaign_id INTO v_prev_campaign;
    v_settled := FOUND;
    settled := v_settled;
    IF v_settled THEN
      v_fail := CASE p_prev_status WHEN 'sent' THEN 0 WHEN 'failed' THEN 1 ELSE NULL END;
      IF p_prev_status IN ('pending', 'skipped') THEN
        -- Nothing went out: give back the message its take counted.
        UPDATE whatsapp_sessions w
           SET sent_day_count = CASE WHEN w.sent_day_start = p_day_start THEN greatest(0, w.sent_day_count - 1) ELSE w.sent_day_count END,
               sent_hour_count = CASE WHEN w.sent_hour_start = p_hour_start THEN greatest(0, w.sent_hour_count - 1) ELSE w.sent_hour_count END
         WHERE w.id = p_session;
      END IF;
    END IF;
  END IF;

  -- The hot case, in one statement: no delay and nobody else on this number, so the slot is kept for
  -- the next recipient (nothing to announce), if the campaign is still ours and no limit holds.
  IF p_release AND p_take = 'recipient' AND coalesce(p_next_delay_ms, 0) = 0 THEN
    UPDATE whatsapp_sessions w
       SET send_slot_expires_at = now() + p_slot_ttl_ms * interval '1 millisecond',
           next_send_at = CASE WHEN p_next_delay_ms IS NULL THEN w.next_send_at ELSE now() END,
           consecutive_failures = CASE v_fail WHEN 0 THEN 0 WHEN 1 THEN w.consecutive_failures + 1 ELSE w.consecutive_failures END,
           sent_day_count = CASE WHEN w.sent_day_start = p_day_start THEN w.sent_day_count + 1 ELSE 1 END,
           sent_day_start = p_day_start,
           sent_hour_count = CASE WHEN w.sent_hour_start = p_hour_start THEN w.sent_hour_count + 1 ELSE 1 END,
           sent_hour_start = p_hour_start,
           first_sent_at = coalesce(w.first_sent_at, now())
     WHERE w.id = p_session AND w.send_slot_holder = p_slot_holder
       AND (w.restricted_until IS NULL OR w.restricted_until <= now())
       AND (p_daily_limit IS NULL OR w.sent_day_start IS DISTINCT FROM p_day_start OR w.sent_day_count < p_daily_limit)
       AND (p_hourly_limit IS NULL OR w.sent_hour_start IS DISTINCT FROM p_hour_start OR w.sent_hour_count < p_hourly_limit)
       AND EXISTS (SELECT 1 FROM campaigns c
                    WHERE c.id = p_campaign AND c.status = 'Running' AND c.lease_holder = p_lease_holder FOR SHARE)
       AND NOT EXISTS (SELECT 1 FROM campaigns o WHERE o.session_id = p_session AND o.status = 'Running' AND o.id <> p_campaign)
    RETURNING w.consecutive_failures INTO consecutive_failures;
    slot_taken := FOUND;
    lease_ok := FOUND;
  END IF;

  IF NOT slot_taken THEN
    PERFORM 1 FROM campaigns c
     WHERE c.id = p_campaign AND c.status = 'Running' AND c.lease_holder = p_lease_holder
     FOR SHARE;
    lease_ok := FOUND;
    IF p_release THEN
      UPDATE whatsapp_sessions w
         SET send_slot_holder = NULL, send_slot_expires_at = NULL,
             next_send_at = CASE WHEN p_next_delay_ms IS NULL THEN w.next_send_at ELSE now() + p_next_delay_ms * interval '1 millisecond' END,
             consecutive_failures = CASE v_fail WHEN 0 THEN 0 WHEN 1 THEN w.consecutive_failures + 1 ELSE w.consecutive_failures END
       WHERE w.id = p_session AND w.send_slot_holder = p_slot_holder
      RETURNING w.consecutive_failures INTO consecutive_failures;
      v_released := FOUND;
      IF v_released THEN
        PERFORM pg_notify('wc_slot_released', p_session::text);
      END IF;
    END IF;
    IF lease_ok AND p_take <> 'none'
       AND NOT (v_released AND EXISTS (SELECT 1 FROM campaigns o WHERE o.session_id = p_session AND o.status = 'Running' AND o.id <> p_campaign)) THEN
      UPDATE whatsapp_sessions s
         SET send_slot_holder = p_slot_holder, send_slot_expires_at = now() + p_slot_ttl_ms * interval '1 millisecond',
             sent_day_count = CASE WHEN v_count = 0 THEN s.sent_day_count WHEN s.sent_day_start = p_day_start THEN s.sent_day_count + 1 ELSE 1 END,
             sent_day_start = CASE WHEN v_count = 0 THEN s.sent_day_start ELSE p_day_start END,
             sent_hour_count = CASE WHEN v_count = 0 THEN s.sent_hour_count WHEN s.sent_hour_start = p_hour_start THEN s.sent_hour_count + 1 ELSE 1 END,
             sent_hour_start = CASE WHEN v_count = 0 THEN s.sent_hour_start ELSE p_hour_start END,
             first_sent_at = CASE WHEN v_count = 0 THEN s.first_sent_at ELSE coalesce(s.first_sent_at, now()) END
       WHERE s.id = p_session
         AND (s.send_slot_holder IS NULL OR s.send_slot_expires_at IS NULL OR s.send_slot_expires_at <= now())
         AND (s.next_send_at IS NULL OR s.next_send_at <= now())
         AND (v_count = 0 OR (
               (s.restricted_until IS NULL OR s.restricted_until <= now())
           AND (p_daily_limit IS NULL OR s.sent_day_start IS DISTINCT FROM p_day_start OR s.sent_day_count < p_daily_limit)
           AND (p_hourly_limit IS NULL OR s.sent_hour_start IS DISTINCT FROM p_hour_start OR s.sent_hour_count < p_hourly_limit)));
      slot_taken := FOUND;
    END IF;
  END IF;
  IF slot_taken AND p_take = 'recipient' THEN
    -- The statement that takes the next pending recipient also reads its contact's opt-out (issue 14):
    -- an opted-out contact's recipient becomes `skipped` (`opted_out`) instead of `sending`, and the
    -- next one is taken, so a contact who said STOP after the recipients were created gets nothing,
    -- even from a campaign already running. The usual message costs one primary-key probe more.
    PERFORM set_config('wc.send_step', 'take', true);
    LOOP
      UPDATE campaign_recipients r
         SET status = CASE WHEN o.opted_out THEN 'skipped'::recipient_status ELSE 'sending'::recipient_status END,
             skip_reason = CASE WHEN o.opted_out THEN 'opted_out' ELSE r.skip_reason END,
             waha_message_id = CASE WHEN o.opted_out THEN NULL ELSE p_message_id END,
             sending_started_at = CASE WHEN o.opted_out THEN NULL ELSE now() END,
             attempts = CASE WHEN o.opted_out THEN r.attempts ELSE r.attempts + 1 END,
             last_error = NULL
        FROM (SELECT p.id,
                     coalesce((SELECT c.opted_out FROM contacts c WHERE c.id = p.contact_id), false) AS opted_out
                FROM campaign_recipients p
               WHERE p.campaign_id = p_campaign AND p.status = 'pending'
                 AND (p_open_zones IS NULL OR p.time_zone = ANY (p_open_zones))
               ORDER BY p.position LIMIT 1 FOR UPDATE OF p SKIP LOCKED) o
       WHERE r.id = o.id
      RETURNING r.id::text, r.phone, r.chat_id, r.rendered_text, r.attempts, r.waha_message_id, o.opted_out
        INTO id, phone, chat_id, rendered_text, attempts, waha_message_id, v_opted_out;
      EXIT WHEN NOT FOUND OR NOT v_opted_out;
      id := NULL;
      v_skipped := v_skipped + 1;
      -- Bounded, so one call never runs long: the run calls again and carries on.
      EXIT WHEN v_skipped >= 1000;
    END LOOP;
    IF id IS NULL THEN
      -- No recipient after all: the slot goes back, and so does the message its take counted.
      UPDATE whatsapp_sessions w
         SET send_slot_holder = NULL, send_slot_expires_at = NULL,
             sent_day_count = greatest(0, w.sent_day_count - 1), sent_hour_count = greatest(0, w.sent_hour_count - 1)
       WHERE w.id = p_session AND w.send_slot_holder = p_slot_holder;
      PERFORM pg_notify('wc_slot_released', p_session::text);
      slot_taken := false;
    END IF;
  END IF;

  IF v_settled OR id IS NOT NULL OR v_skipped > 0 THEN
    PERFORM set_config('wc.send_step', 'off', true);
    INSERT INTO campaign_recipient_counts AS k (campaign_id, status, n)
    SELECT d.campaign_id, d.status::recipient_status, sum(d.n)::int
      FROM (VALUES (v_prev_campaign, 'sending', CASE WHEN v_settled THEN -1 ELSE 0 END),
                   (v_prev_campaign, p_prev_status, CASE WHEN v_settled THEN 1 ELSE 0 END),
                   (p_campaign, 'pending', -(v_skipped + CASE WHEN id IS NULL THEN 0 ELSE 1 END)),
                   (p_campaign, 'sending', CASE WHEN id IS NULL THEN 0 ELSE 1 END),
                   (p_campaign, 'skipped', v_skipped)) d(campaign_id, status, n)
     WHERE d.campaign_id IS NOT NULL AND d.n <> 0
     GROUP BY 1, 2 HAVING sum(d.n) <> 0
    ON CONFLICT (campaign_id, status) DO UPDATE SET n = k.n + excluded.n;
  ELSE
    PERFORM set_config('wc.send_step', 'off', true);
  END IF;

  IF id IS NULL THEN
    has_pending := EXISTS (SELECT 1 FROM campaign_recipients q WHERE q.campaign_id = p_campaign AND q.status = 'pending');
    SELECT greatest(0, extract(epoch FROM (
             greatest(coalesce(w.next_send_at, now()),
                      CASE WHEN w.send_slot_holder IS NOT NULL AND w.send_slot_expires_at > now() THEN w.send_slot_expires_at ELSE now() END)
             - now())) * 1000)::float8,
           (w.send_slot_holder IS NOT NULL AND w.send_slot_expires_at > now()),
           CASE WHEN w.restricted_until > now() THEN 'restricted'
                WHEN p_daily_limit IS NOT NULL AND w.sent_day_start = p_day_start AND w.sent_day_count >= p_daily_limit THEN 'daily_limit'
                WHEN p_hourly_limit IS NOT NULL AND w.sent_hour_start = p_hour_start AND w.sent_hour_count >= p_hourly_limit THEN 'hourly_limit'
           END,
           CASE WHEN w.restricted_until > now() THEN w.restricted_until END
      INTO wait_ms, slot_busy, held, held_until
      FROM whatsapp_sessions w WHERE w.id = p_session;
  ELSE
    has_pending := true;
    wait_ms := 0;
    slot_busy := false;
  END IF;
  RETURN NEXT;
END
$$;
