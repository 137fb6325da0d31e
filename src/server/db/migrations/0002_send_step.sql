-- The send loop's one statement (src/server/services/runner/sendSlot.ts), as a function so that
-- PostgreSQL and PGlite both plan its statements once per connection (PL/pgSQL caches them): the
-- planning of these statements costs several times their execution.
--
-- One call, in this order, each part optional:
-- 1. settle: the previous recipient's outcome, only if it is still ours (same attempt token); back to
--    `pending` with p_prev_uncount when no attempt reached WAHA, its take's attempt is taken back;
-- 2. the campaign, still Running under our lease? (locked FOR SHARE: a concurrent cancel waits for
--    this call or is seen by it);
-- 3. release: free our slot on the number, the next send waiting p_next_delay_ms (null: keep
--    next_send_at), and NOTIFY wc_slot_released so that a runner or a cancel waiting for it wakes;
--    with no delay, the campaign still ours and no other campaign on the number, the slot is kept
--    for the next recipient instead (nothing to announce);
-- 4. take ('slot' or 'recipient'): take the number's slot if it is free and its delay has passed,
--    and move the next pending recipient to `sending` with the message id fixed before the call.
--    Right after freeing the slot, it is left to another campaign running on the same number
--    (taking turns). No pending recipient: the slot goes back at once.
-- Then what the caller needs to wait well: whether any recipient is pending, and how long until the
-- slot frees or the delay passes.
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
  p_message_id text
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
  waha_message_id text
) LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
  v_released boolean := false;
BEGIN
  settled := false;
  slot_taken := false;
  IF p_prev_id IS NOT NULL THEN
    UPDATE campaign_recipients r
       SET status = p_prev_status::recipient_status,
           waha_message_id = CASE p_prev_status WHEN 'pending' THEN NULL WHEN 'sent' THEN p_prev_waha_id ELSE r.waha_message_id END,
           sent_at = CASE WHEN p_prev_status = 'sent' THEN now() ELSE r.sent_at END,
           sending_started_at = CASE WHEN p_prev_status = 'pending' THEN NULL ELSE r.sending_started_at END,
           last_error = p_prev_error,
           ack = coalesce(p_prev_ack, r.ack),
           ack_at = CASE WHEN p_prev_ack IS NULL THEN r.ack_at ELSE now() END,
           attempts = CASE WHEN p_prev_uncount AND p_prev_status = 'pending' THEN greatest(0, r.attempts - 1) ELSE r.attempts END
     WHERE r.id = p_prev_id AND r.status = 'sending' AND r.attempts = p_prev_attempts;
    settled := FOUND;
  END IF;

  -- The hot case, in one statement: no delay and nobody else on this number, so the slot is kept for
  -- the next recipient (nothing to announce), if the campaign is still ours.
  IF p_release AND p_take = 'recipient' AND coalesce(p_next_delay_ms, 0) = 0 THEN
    UPDATE whatsapp_sessions w
       SET send_slot_expires_at = now() + p_slot_ttl_ms * interval '1 millisecond',
           next_send_at = CASE WHEN p_next_delay_ms IS NULL THEN w.next_send_at ELSE now() END
     WHERE w.id = p_session AND w.send_slot_holder = p_slot_holder
       AND EXISTS (SELECT 1 FROM campaigns c
                    WHERE c.id = p_campaign AND c.status = 'Running' AND c.lease_holder = p_lease_holder FOR SHARE)
       AND NOT EXISTS (SELECT 1 FROM campaigns o WHERE o.session_id = p_session AND o.status = 'Running' AND o.id <> p_campaign);
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
             next_send_at = CASE WHEN p_next_delay_ms IS NULL THEN w.next_send_at ELSE now() + p_next_delay_ms * interval '1 millisecond' END
       WHERE w.id = p_session AND w.send_slot_holder = p_slot_holder;
      v_released := FOUND;
      IF v_released THEN
        PERFORM pg_notify('wc_slot_released', p_session::text);
      END IF;
    END IF;
    IF lease_ok AND p_take <> 'none'
       AND NOT (v_released AND EXISTS (SELECT 1 FROM campaigns o WHERE o.session_id = p_session AND o.status = 'Running' AND o.id <> p_campaign)) THEN
      UPDATE whatsapp_sessions s
         SET send_slot_holder = p_slot_holder, send_slot_expires_at = now() + p_slot_ttl_ms * interval '1 millisecond'
       WHERE s.id = p_session
         AND (s.send_slot_holder IS NULL OR s.send_slot_expires_at IS NULL OR s.send_slot_expires_at <= now())
         AND (s.next_send_at IS NULL OR s.next_send_at <= now());
      slot_taken := FOUND;
    END IF;
  END IF;
  IF slot_taken AND p_take = 'recipient' THEN
    UPDATE campaign_recipients r
       SET status = 'sending', waha_message_id = p_message_id, sending_started_at = now(),
           attempts = r.attempts + 1, last_error = NULL
     WHERE r.id = (SELECT p.id FROM campaign_recipients p
                    WHERE p.campaign_id = p_campaign AND p.status = 'pending'
                    ORDER BY p.position LIMIT 1 FOR UPDATE SKIP LOCKED)
    RETURNING r.id::text, r.phone, r.chat_id, r.rendered_text, r.attempts, r.waha_message_id
      INTO id, phone, chat_id, rendered_text, attempts, waha_message_id;
    IF NOT FOUND THEN
      UPDATE whatsapp_sessions w SET send_slot_holder = NULL, send_slot_expires_at = NULL
       WHERE w.id = p_session AND w.send_slot_holder = p_slot_holder;
      PERFORM pg_notify('wc_slot_released', p_session::text);
      slot_taken := false;
    END IF;
  END IF;

  IF id IS NULL THEN
    has_pending := EXISTS (SELECT 1 FROM campaign_recipients q WHERE q.campaign_id = p_campaign AND q.status = 'pending');
    SELECT greatest(0, extract(epoch FROM (
             greatest(coalesce(w.next_send_at, now()),
                      CASE WHEN w.send_slot_holder IS NOT NULL AND w.send_slot_expires_at > now() THEN w.send_slot_expires_at ELSE now() END)
             - now())) * 1000)::float8,
           (w.send_slot_holder IS NOT NULL AND w.send_slot_expires_at > now())
      INTO wait_ms, slot_busy
      FROM whatsapp_sessions w WHERE w.id = p_session;
  ELSE
    has_pending := true;
    wait_ms := 0;
    slot_busy := false;
  END IF;
  RETURN NEXT;
END
$$;
