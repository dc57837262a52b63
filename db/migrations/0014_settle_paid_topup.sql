-- A paid top-up's whole settlement in ONE round trip (issue 6, lib/topups/settle-paid.ts).
--
-- The webhook calls this for payment_intent.succeeded as a single statement outside any explicit
-- transaction, so the call is its own transaction: BEGIN and COMMIT travel with it, and the
-- organisation's row lock (taken by the ledger statement, the fourth of five) is held for the
-- rest of this function and the commit only. Each statement in here gets a fresh snapshot (READ
-- COMMITTED, volatile function), exactly as the same statements sent one by one would.
--
-- It settles only the plain case: a purchase with no coupon, not yet succeeded or under review,
-- whose amount and currency match what Stripe received. Anything else answers 'slow' having
-- written nothing, and the caller runs the general path (lib/webhooks/process.ts with
-- lib/topups/settle.ts), which has the same effects and handles every case. A race discovered
-- after the claim (the purchase changed, the ledger key already used) raises SQLSTATE CL001,
-- which rolls the claim back with everything else; the caller then runs the general path too.
--
-- What it does is what the general path does for a grant, statement for statement:
--   claim            lib/webhooks/process.ts claim()         (insert the processed event)
--   purchase         lib/topups/settle.ts lockPurchaseForIntent + succeed()
--   ledger           lib/ledger/ledger.ts appendEntry()      (one CTE: entry + balance)
--   campaigns        lib/campaigns/rules.ts campaignsToResume (greedy, in pause order)
-- tests/integration/settle-paid.test.ts runs both paths on the same cases and compares the rows.
CREATE OR REPLACE FUNCTION creditloop_settle_paid_topup(
  p_event_id text,
  p_event_type text,
  p_livemode boolean,
  p_payload jsonb,
  p_intent_id text,
  p_meta_purchase_id uuid,
  p_amount_received integer,
  p_currency text
) RETURNS TABLE (outcome text, purchase_id uuid, entry_id bigint, balance_after integer, resumed uuid[])
LANGUAGE plpgsql VOLATILE AS $fn$
DECLARE
  v_processed timestamptz;
  p record;
  v_entry_id bigint;
  v_balance integer;
  v_remaining integer;
  v_resumed uuid[] := '{}';
  c record;
BEGIN
  -- 1. A delivery seen before. Processed: a duplicate, answered having written and locked
  --    nothing. Recorded as failed: the general path retries it.
  SELECT e.processed_at INTO v_processed FROM stripe_events e WHERE e.id = p_event_id;
  IF FOUND THEN
    RETURN QUERY SELECT (CASE WHEN v_processed IS NOT NULL THEN 'duplicate' ELSE 'slow' END)::text, NULL::uuid, NULL::bigint, NULL::integer, NULL::uuid[];
    RETURN;
  END IF;

  -- 2. The purchase this intent pays, locked (lockPurchaseForIntent's choice: the purchase linked
  --    to the intent wins, else the one our metadata names if it is not linked elsewhere).
  SELECT pu.id, pu.org_id, pu.user_id, pu.credits, pu.status, pu.amount, pu.currency, pu.coupon_id, k.name AS pack_name
    INTO p
    FROM purchases pu JOIN credit_packs k ON k.id = pu.pack_id
   WHERE pu.stripe_payment_intent_id = p_intent_id
      OR (pu.id = p_meta_purchase_id AND (pu.stripe_payment_intent_id IS NULL OR pu.stripe_payment_intent_id = p_intent_id))
   ORDER BY (pu.stripe_payment_intent_id IS NOT DISTINCT FROM p_intent_id) DESC
   LIMIT 1
   FOR UPDATE OF pu;
  -- 3. Only the plain grant is settled here (decide.ts: "grant"); the rest goes the general way.
  IF NOT FOUND
     OR p.status NOT IN ('pending', 'failed', 'canceled')
     OR p.coupon_id IS NOT NULL
     OR p.amount <> p_amount_received
     OR p.currency <> lower(p_currency) THEN
    RETURN QUERY SELECT 'slow'::text, NULL::uuid, NULL::bigint, NULL::integer, NULL::uuid[];
    RETURN;
  END IF;

  -- 4. The claim: the processed marker commits with the effects below, or not at all.
  INSERT INTO stripe_events (id, type, livemode, payload, attempts, processed_at)
  VALUES (p_event_id, p_event_type, p_livemode, p_payload, 1, now())
  ON CONFLICT (id) DO NOTHING;
  IF NOT FOUND THEN
    -- Another delivery of this event claimed it meanwhile (through the general path).
    RETURN QUERY SELECT 'slow'::text, NULL::uuid, NULL::bigint, NULL::integer, NULL::uuid[];
    RETURN;
  END IF;

  -- 5. The purchase succeeds (money in means credits in, even after a decline or a cancel).
  UPDATE purchases
     SET status = 'succeeded', stripe_payment_intent_id = p_intent_id, failure_code = NULL, failure_message = NULL,
         finalized_at = now(), updated_at = now()
   WHERE id = p.id;

  -- 6. The ledger: entry and balance in one statement, which takes the organisation's row lock.
  WITH entry AS (
    INSERT INTO credit_entries (org_id, kind, amount, balance_after, idempotency_key, description, purchase_id, actor_user_id)
    SELECT o.id, 'purchase'::credit_entry_kind, p.credits, o.balance + p.credits, 'purchase:' || p.id,
           'Top-up: ' || p.pack_name || ' (' || to_char(p.credits, 'FM999,999,999,990') || ' credits)', p.id, p.user_id
      FROM organizations o
     WHERE o.id = p.org_id
       AND NOT EXISTS (SELECT 1 FROM credit_entries k WHERE k.idempotency_key = 'purchase:' || p.id)
       FOR NO KEY UPDATE OF o
    ON CONFLICT (idempotency_key) DO NOTHING
    RETURNING credit_entries.id, credit_entries.org_id, credit_entries.amount, credit_entries.balance_after
  ), moved AS (
    UPDATE organizations SET balance = organizations.balance + entry.amount
      FROM entry
     WHERE organizations.id = entry.org_id
  )
  SELECT entry.id, entry.balance_after INTO v_entry_id, v_balance FROM entry;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'purchase % already has its ledger entry', p.id USING ERRCODE = 'CL001';
  END IF;

  -- 7. Campaigns paused for credits that the new balance covers, in the order they were paused
  --    (ties: id), each only if the balance still covers it after those before it. A new
  --    statement, so it sees a campaign paused by a delivery that held the organisation's lock
  --    just before us.
  v_remaining := v_balance;
  FOR c IN
    SELECT ca.id, ca.cost_per_delivery FROM campaigns ca
     WHERE ca.org_id = p.org_id AND ca.status = 'paused' AND ca.pause_reason = 'insufficient_credits'
     ORDER BY date_trunc('milliseconds', ca.paused_at) NULLS FIRST, ca.id
       FOR NO KEY UPDATE
  LOOP
    IF c.cost_per_delivery <= v_remaining THEN
      v_resumed := v_resumed || c.id;
      v_remaining := v_remaining - c.cost_per_delivery;
    END IF;
  END LOOP;
  IF cardinality(v_resumed) > 0 THEN
    UPDATE campaigns SET status = 'active', pause_reason = NULL, paused_at = NULL, updated_at = now()
     WHERE id = ANY (v_resumed);
  END IF;

  RETURN QUERY SELECT 'processed'::text, p.id, v_entry_id, v_balance, v_resumed;
END;
$fn$;
