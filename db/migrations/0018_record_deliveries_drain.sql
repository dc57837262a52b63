-- creditloop_record_deliveries (0016, 0017) again, covering two more cases itself:
--   - Organisations with expiring credits (plans' grants): the debit drains their buckets as the
--     ledger's debit does, through creditloop_drain_buckets, now the one definition both use.
--     They used to answer 'slow', so every delivery of a plan's organisation waited for a call
--     and then took the general path as well.
--   - A replay (the delivery already delivered for the same request) is answered before any
--     organisation or campaign lock: a delivered row never changes, so it needs none, and
--     replays of a busy organisation no longer queue behind its debits.
-- 0016 says what the function does and why; 0017 why the claim's lock is only tried.
-- Draining an organisation's expiring buckets after a debit, one definition for both callers: the
-- ledger's debit (lib/ledger/ledger.ts drainBuckets) and the one-call delivery below. Takes
-- p_credits from the live buckets, soonest expiry first (ties: oldest bucket), under the
-- organisation's row lock the debit took; what the buckets cannot cover came from never-expiring
-- credits; organizations.expiring_credits moves by what the buckets gave, in the same statement.
CREATE OR REPLACE FUNCTION creditloop_drain_buckets(p_org uuid, p_credits integer) RETURNS void
LANGUAGE sql VOLATILE AS $fn$
  with live as (
    select id, remaining, expires_at from credit_grants
    where org_id = p_org and remaining > 0 and expired_at is null
    for update
  ), ranked as (
    select id, remaining, coalesce(sum(remaining) over (order by expires_at, id rows between unbounded preceding and 1 preceding), 0) as before
    from live
  ), drained as (
    update credit_grants g
    set remaining = g.remaining - least(r.remaining, p_credits - r.before)
    from ranked r
    where g.id = r.id and r.before < p_credits
    returning least(r.remaining, p_credits - r.before) as taken
  )
  update organizations set expiring_credits = expiring_credits - (select coalesce(sum(taken), 0)::int from drained)
  where id = p_org;
$fn$;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION creditloop_record_deliveries(
  -- A JSON array of { id, orgId, campaignId, idempotencyKey, requestHash, reference, apiKeyId,
  -- userId }: the delivery's id is derived from (orgId, idempotencyKey) by the caller
  -- (lib/deliveries/ids.ts), as the general path derives it.
  p_items jsonb)
  RETURNS TABLE (idx integer, outcome text, delivery_id uuid, campaign_id uuid, credits integer, overage_credits integer,
                 reference text, created_at timestamptz, balance_after integer)
LANGUAGE plpgsql VOLATILE AS $fn$
DECLARE
  v_order integer[];
  v_slow integer[] := '{}';
  i integer;
  it jsonb;
  v_id uuid;
  v_org uuid;
  v_campaign uuid;
  v_key uuid;
  o record;
  c record;
  d record;
  s record;
  v_after integer;
  v_entry bigint;
  v_created timestamptz;
BEGIN
  SELECT array_agg(ord::integer ORDER BY (e ->> 'orgId')::uuid, (e ->> 'campaignId')::uuid, ord) INTO v_order
    FROM jsonb_array_elements(p_items) WITH ORDINALITY AS t(e, ord);
  FOREACH i IN ARRAY coalesce(v_order, '{}') LOOP
    it := p_items -> (i - 1);
    v_id := (it ->> 'id')::uuid;
    v_org := (it ->> 'orgId')::uuid;
    v_campaign := (it ->> 'campaignId')::uuid;
    v_key := (it ->> 'apiKeyId')::uuid;

    IF v_key IS NOT NULL THEN
      PERFORM 1 FROM api_keys k WHERE k.id = v_key AND k.org_id = v_org AND k.revoked_at IS NULL FOR SHARE;
      IF NOT FOUND THEN v_slow := v_slow || i; CONTINUE; END IF;
    END IF;
    -- A replay needs no lock: a delivered row never changes. (The campaign must still be the
    -- organisation's, as the general path's read requires.)
    SELECT dl.status, dl.request_hash, dl.org_id, dl.campaign_id, dl.entry_id, dl.credits, dl.overage_credits, dl.reference, dl.created_at
      INTO d FROM deliveries dl WHERE dl.id = v_id;
    IF FOUND AND d.status = 'delivered' AND d.request_hash = it ->> 'requestHash' AND d.org_id = v_org
       AND EXISTS (SELECT 1 FROM campaigns ca WHERE ca.id = v_campaign AND ca.org_id = v_org) THEN
      RETURN QUERY SELECT i, 'replayed'::text, v_id, d.campaign_id, d.credits, d.overage_credits, d.reference, d.created_at,
        coalesce((SELECT ce.balance_after FROM credit_entries ce WHERE ce.id = d.entry_id), 0);
      CONTINUE;
    END IF;
    SELECT ob.balance, ob.expiring_credits INTO o FROM organizations ob WHERE ob.id = v_org FOR NO KEY UPDATE;
    IF NOT FOUND THEN v_slow := v_slow || i; CONTINUE; END IF;
    SELECT ca.name, ca.status, ca.cost_per_delivery INTO c
      FROM campaigns ca WHERE ca.id = v_campaign AND ca.org_id = v_org FOR NO KEY UPDATE;
    IF NOT FOUND THEN v_slow := v_slow || i; CONTINUE; END IF;

    -- Another request recording this delivery right now (its general path holds this lock from
    -- before its claim until it ends): its answer, not ours. Never wait here: that request may be
    -- waiting for the organisation's lock this call holds.
    IF NOT pg_try_advisory_xact_lock(5, hashtext(v_id::text)) THEN v_slow := v_slow || i; CONTINUE; END IF;
    SELECT dl.status, dl.request_hash, dl.org_id, dl.campaign_id, dl.entry_id, dl.credits, dl.overage_credits, dl.reference, dl.created_at
      INTO d FROM deliveries dl WHERE dl.id = v_id;
    IF FOUND THEN
      IF d.status = 'delivered' AND d.request_hash = it ->> 'requestHash' AND d.org_id = v_org THEN
        -- Entirely in overage: no entry, and the balance it left was zero.
        RETURN QUERY SELECT i, 'replayed'::text, v_id, d.campaign_id, d.credits, d.overage_credits, d.reference, d.created_at,
          coalesce((SELECT ce.balance_after FROM credit_entries ce WHERE ce.id = d.entry_id), 0);
      ELSE
        v_slow := v_slow || i;
      END IF;
      CONTINUE;
    END IF;

    v_after := o.balance - c.cost_per_delivery;
    IF c.status <> 'active' OR v_after < 0 THEN v_slow := v_slow || i; CONTINUE; END IF;
    -- lib/balance-care/rules.ts crossedBelow: from at or above the threshold to below it.
    SELECT bs.low_balance_threshold AS low, bs.auto_recharge_enabled AS auto_on, bs.auto_recharge_threshold AS auto_at INTO s
      FROM balance_settings bs WHERE bs.org_id = v_org;
    IF FOUND AND ((s.low IS NOT NULL AND o.balance >= s.low AND v_after < s.low)
               OR (s.auto_on AND s.auto_at IS NOT NULL AND o.balance >= s.auto_at AND v_after < s.auto_at)) THEN
      v_slow := v_slow || i;
      CONTINUE;
    END IF;

    INSERT INTO deliveries (id, org_id, campaign_id, idempotency_key, request_hash, reference, status, credits, api_key_id, user_id)
    VALUES (v_id, v_org, v_campaign, it ->> 'idempotencyKey', it ->> 'requestHash', it ->> 'reference', 'refused', c.cost_per_delivery,
            v_key, (it ->> 'userId')::uuid)
    ON CONFLICT DO NOTHING;
    IF NOT FOUND THEN
      -- Cannot happen while every claimer takes the claim's lock first; if it does, roll back.
      RAISE EXCEPTION 'delivery % was claimed by a concurrent request', v_id USING ERRCODE = 'CL001';
    END IF;
    INSERT INTO credit_entries (org_id, kind, amount, balance_after, idempotency_key, description, campaign_id, delivery_id)
    VALUES (v_org, 'usage', -c.cost_per_delivery, v_after, 'delivery:' || v_id, 'Delivery for ' || c.name, v_campaign, v_id)
    RETURNING id INTO v_entry;
    UPDATE organizations SET balance = balance - c.cost_per_delivery WHERE id = v_org;
    -- Only an organisation with credits left in expiring buckets has any to drain.
    IF o.expiring_credits > 0 THEN PERFORM creditloop_drain_buckets(v_org, c.cost_per_delivery); END IF;
    UPDATE campaigns SET deliveries_count = deliveries_count + 1, updated_at = now() WHERE id = v_campaign;
    UPDATE deliveries SET status = 'delivered', entry_id = v_entry, updated_at = now() WHERE id = v_id
    RETURNING deliveries.created_at INTO v_created;
    RETURN QUERY SELECT i, 'delivered'::text, v_id, v_campaign, c.cost_per_delivery, 0, it ->> 'reference', v_created, v_after;
  END LOOP;
  RETURN QUERY SELECT u.i::integer, 'slow'::text, NULL::uuid, NULL::uuid, NULL::integer, NULL::integer, NULL::text, NULL::timestamptz, NULL::integer
    FROM unnest(v_slow) AS u(i);
END;
$fn$;
