-- Issue 15 (fleet bench): a send step's release sends NOTIFY wc_slot_released only when someone may be
-- waiting for the slot. PostgreSQL serialises every committing transaction that issued a NOTIFY, across
-- the whole cluster, on one lock held through the commit's WAL flush (PreCommit_Notify: an
-- AccessExclusiveLock on the database object): with 2,000 numbers each releasing its slot after every
-- message, the commits queued one behind another (26 of 40 fleet backends waiting on that lock) and the
-- fleet sent 230 msg/s of the 1,333 its pace allows. A waiter is another Running campaign on the
-- number (wc_number_shared), or this campaign's pause or cancel waiting out the send in flight (the
-- lease check above then failed); anyone else wakes by its own timer, as before (at most 5 s).
-- Otherwise the same function as 0022.
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
  v_own boolean := true;
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
       AND NOT wc_number_shared(p_session, p_campaign)
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
      -- Announce the free slot only to someone who may be waiting for it: another Running campaign on
      -- this number, or a pause or cancel of this campaign waiting out its send (then lease_ok is false).
      IF v_released AND (NOT lease_ok OR wc_number_shared(p_session, p_campaign)) THEN
        PERFORM pg_notify('wc_slot_released', p_session::text);
      END IF;
    END IF;
    IF lease_ok AND p_take <> 'none'
       AND NOT (v_released AND wc_number_shared(p_session, p_campaign)) THEN
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
    -- Issue 15: a number takes the rows assigned to it first (sticky, or given back), then the pool
    -- (session_id null), each by one probe of the pending index, never stepping over rows assigned to
    -- other numbers; the take records the number on the row. `ORDER BY session_id, position` is the
    -- index's order (all null in the pool), so the pool probe needs no sort.
    LOOP
      IF v_own THEN
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
                 WHERE p.campaign_id = p_campaign AND p.status = 'pending' AND p.session_id = p_session
                   AND (p_open_zones IS NULL OR p.time_zone = ANY (p_open_zones))
                 ORDER BY p.position LIMIT 1 FOR UPDATE OF p SKIP LOCKED) o
         WHERE r.id = o.id
        RETURNING r.id::text, r.phone, r.chat_id, r.rendered_text, r.attempts, r.waha_message_id, o.opted_out
          INTO id, phone, chat_id, rendered_text, attempts, waha_message_id, v_opted_out;
        IF NOT FOUND THEN
          v_own := false;
          CONTINUE;
        END IF;
      ELSE
        UPDATE campaign_recipients r
           SET status = CASE WHEN o.opted_out THEN 'skipped'::recipient_status ELSE 'sending'::recipient_status END,
               skip_reason = CASE WHEN o.opted_out THEN 'opted_out' ELSE r.skip_reason END,
               waha_message_id = CASE WHEN o.opted_out THEN NULL ELSE p_message_id END,
               sending_started_at = CASE WHEN o.opted_out THEN NULL ELSE now() END,
               attempts = CASE WHEN o.opted_out THEN r.attempts ELSE r.attempts + 1 END,
               last_error = NULL,
               session_id = p_session
          FROM (SELECT p.id,
                       coalesce((SELECT c.opted_out FROM contacts c WHERE c.id = p.contact_id), false) AS opted_out
                  FROM campaign_recipients p
                 WHERE p.campaign_id = p_campaign AND p.status = 'pending' AND p.session_id IS NULL
                   AND (p_open_zones IS NULL OR p.time_zone = ANY (p_open_zones))
                 ORDER BY p.session_id, p.position LIMIT 1 FOR UPDATE OF p SKIP LOCKED) o
         WHERE r.id = o.id
        RETURNING r.id::text, r.phone, r.chat_id, r.rendered_text, r.attempts, r.waha_message_id, o.opted_out
          INTO id, phone, chat_id, rendered_text, attempts, waha_message_id, v_opted_out;
        EXIT WHEN NOT FOUND;
      END IF;
      EXIT WHEN NOT v_opted_out;
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
    -- This number's work: its own pending rows and the pool (another number's rows wait for it).
    has_pending := EXISTS (SELECT 1 FROM campaign_recipients q WHERE q.campaign_id = p_campaign AND q.status = 'pending' AND q.session_id = p_session)
                OR EXISTS (SELECT 1 FROM campaign_recipients q WHERE q.campaign_id = p_campaign AND q.status = 'pending' AND q.session_id IS NULL);
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
