-- Paid top-ups settled in ONE call, several at once (issue 6, lib/topups/settle-paid.ts).
--
-- It takes a batch of payment_intent.succeeded events (one is a batch of one) and settles each,
-- all in the one transaction the call is. The webhook batches the events that arrive while calls
-- are running: one organisation's events serialise on its balance row, and each used to hold
-- that row through its own commit (the WAL flush); a batch holds it through one commit for all
-- its events, and the events of a batch share one round trip and one commit.
-- Every event's effects still commit together with its processed marker (in the same
-- transaction), and a batch that fails is retried by the caller event by event, so one bad event
-- never holds back the others.
--
-- Phase 1, event by event in intent order: a delivery seen before answers 'duplicate'
-- (processed) or 'slow' (recorded as failed: the general path retries it), having written and
-- locked nothing; the purchase is locked, and only the plain grant goes on (no coupon, purchase
-- pending, failed or canceled, amount and currency as charged: lib/topups/decide.ts "grant"),
-- anything else answers 'slow' having written nothing; the event is claimed (the processed
-- marker); the purchase succeeds. Phase 2, by organisation (each organisation's events in the
-- batch's order): the ledger statement (entry and balance in one statement, as
-- lib/ledger/ledger.ts appendEntry; it takes the organisation's row lock) and the resume of the
-- campaigns the new balance covers (lib/campaigns/rules.ts campaignsToResume: in pause order,
-- ties by id, each if the balance still covers it after those before it), a new statement so it
-- sees a campaign paused by a delivery that held the organisation's lock just before. All the
-- purchases are locked before any organisation (the general path's order: purchase, then
-- organisation, then campaigns), and two calls take their locks in the same order. A race found
-- after a claim raises SQLSTATE CL001, which rolls the whole call back; the caller then takes
-- the general path. tests/integration/settle-paid.test.ts runs this and the general path on the
-- same cases and compares the rows they leave.
CREATE OR REPLACE FUNCTION creditloop_settle_paid_topups(
  -- A JSON array of payment_intent.succeeded events, as Stripe sent them (each is stored whole as
  -- its event's payload).
  p_events jsonb) RETURNS TABLE (idx integer, outcome text, purchase_id uuid, entry_id bigint, balance_after integer, resumed uuid[])
LANGUAGE plpgsql VOLATILE AS $fn$
DECLARE
  n integer := jsonb_array_length(p_events);
  i integer;
  ev jsonb;
  pi jsonb;
  v_event_id text;
  v_intent_id text;
  v_meta_purchase_id uuid;
  v_processed timestamptz;
  p record;
  v_outcome text[] := array_fill(NULL::text, ARRAY[n]);
  v_purchase uuid[] := array_fill(NULL::uuid, ARRAY[n]);
  v_org uuid[] := array_fill(NULL::uuid, ARRAY[n]);
  v_user uuid[] := array_fill(NULL::uuid, ARRAY[n]);
  v_credits integer[] := array_fill(NULL::integer, ARRAY[n]);
  v_pack text[] := array_fill(NULL::text, ARRAY[n]);
  v_entry_id bigint;
  v_balance integer;
  v_remaining integer;
  v_resumed uuid[];
  c record;
  v_order integer[];
BEGIN
  -- Phase 1 goes in intent order and phase 2 in organisation order (ties: the batch's order),
  -- whatever the batch's order: two calls running at once take their purchase locks, and then
  -- their organisation locks, in the same order, so they never deadlock on each other.
  SELECT array_agg(ord::integer ORDER BY e -> 'data' -> 'object' ->> 'id', ord) INTO v_order
    FROM jsonb_array_elements(p_events) WITH ORDINALITY AS t(e, ord);
  -- Phase 1: every event's checks, claim and purchase (no organisation is locked yet).
  FOREACH i IN ARRAY coalesce(v_order, '{}') LOOP
    ev := p_events -> (i - 1);
    pi := ev -> 'data' -> 'object';
    v_event_id := ev ->> 'id';
    v_intent_id := pi ->> 'id';
    -- Our metadata names the purchase; anything but a UUID names none.
    v_meta_purchase_id := CASE WHEN (pi -> 'metadata' ->> 'purchase_id') ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
                               THEN (pi -> 'metadata' ->> 'purchase_id')::uuid END;
    SELECT e.processed_at INTO v_processed FROM stripe_events e WHERE e.id = v_event_id;
    IF FOUND THEN
      v_outcome[i] := CASE WHEN v_processed IS NOT NULL THEN 'duplicate' ELSE 'slow' END;
      CONTINUE;
    END IF;
    -- The purchase this intent pays (lockPurchaseForIntent's choice: the purchase linked to the
    -- intent wins, else the one our metadata names if it is not linked elsewhere).
    SELECT pu.id, pu.org_id, pu.user_id, pu.credits, pu.status, pu.amount, pu.currency, pu.coupon_id, k.name AS pack_name
      INTO p
      FROM purchases pu JOIN credit_packs k ON k.id = pu.pack_id
     WHERE pu.stripe_payment_intent_id = v_intent_id
        OR (pu.id = v_meta_purchase_id AND (pu.stripe_payment_intent_id IS NULL OR pu.stripe_payment_intent_id = v_intent_id))
     ORDER BY (pu.stripe_payment_intent_id IS NOT DISTINCT FROM v_intent_id) DESC
     LIMIT 1
     FOR UPDATE OF pu;
    IF NOT FOUND
       OR p.status NOT IN ('pending', 'failed', 'canceled')
       OR p.coupon_id IS NOT NULL
       OR p.amount IS DISTINCT FROM (pi ->> 'amount_received')::integer
       OR p.currency IS DISTINCT FROM lower(pi ->> 'currency') THEN
      v_outcome[i] := 'slow';
      CONTINUE;
    END IF;
    INSERT INTO stripe_events (id, type, livemode, payload, attempts, processed_at)
    VALUES (v_event_id, ev ->> 'type', (ev ->> 'livemode')::boolean, ev, 1, now())
    ON CONFLICT (id) DO NOTHING;
    IF NOT FOUND THEN
      -- Another delivery of this event claimed it meanwhile. (A copy earlier in this batch is
      -- found by the first check: a duplicate.)
      v_outcome[i] := 'slow';
      CONTINUE;
    END IF;
    -- Money in means credits in, even after a decline or a cancel.
    UPDATE purchases
       SET status = 'succeeded', stripe_payment_intent_id = v_intent_id, failure_code = NULL, failure_message = NULL,
           finalized_at = now(), updated_at = now()
     WHERE id = p.id;
    v_outcome[i] := 'processed';
    v_purchase[i] := p.id;
    v_org[i] := p.org_id;
    v_user[i] := p.user_id;
    v_credits[i] := p.credits;
    v_pack[i] := p.pack_name;
  END LOOP;

  FOR i IN 1..n LOOP
    IF v_outcome[i] IS DISTINCT FROM 'processed' THEN
      RETURN QUERY SELECT i, v_outcome[i], NULL::uuid, NULL::bigint, NULL::integer, NULL::uuid[];
    END IF;
  END LOOP;

  -- Phase 2: the ledger and the campaigns, event by event, by organisation (an organisation's
  -- events in the batch's order).
  FOR i IN
    SELECT u.idx::integer FROM unnest(v_org) WITH ORDINALITY AS u(org, idx)
     WHERE v_outcome[u.idx] = 'processed'
     ORDER BY u.org, u.idx
  LOOP
    WITH entry AS (
      INSERT INTO credit_entries (org_id, kind, amount, balance_after, idempotency_key, description, purchase_id, actor_user_id)
      SELECT o.id, 'purchase'::credit_entry_kind, v_credits[i], o.balance + v_credits[i], 'purchase:' || v_purchase[i],
             'Top-up: ' || v_pack[i] || ' (' || to_char(v_credits[i], 'FM999,999,999,990') || ' credits)', v_purchase[i], v_user[i]
        FROM organizations o
       WHERE o.id = v_org[i]
         AND NOT EXISTS (SELECT 1 FROM credit_entries k WHERE k.idempotency_key = 'purchase:' || v_purchase[i])
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
      RAISE EXCEPTION 'purchase % already has its ledger entry', v_purchase[i] USING ERRCODE = 'CL001';
    END IF;

    v_remaining := v_balance;
    v_resumed := '{}';
    FOR c IN
      SELECT ca.id, ca.cost_per_delivery FROM campaigns ca
       WHERE ca.org_id = v_org[i] AND ca.status = 'paused' AND ca.pause_reason = 'insufficient_credits'
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

    RETURN QUERY SELECT i, 'processed'::text, v_purchase[i], v_entry_id, v_balance, v_resumed;
  END LOOP;
END;
$fn$;
