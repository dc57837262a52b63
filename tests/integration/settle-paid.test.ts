// The one-call settlement of paid top-ups (lib/topups/settle-paid.ts, the database function in
// db/migrations/0014_settle_paid_topups_batch.sql) against the general path it short-cuts: the
// same rows for the same case, one by one and in batches; "slow" with nothing written for every
// case it leaves to the general path; a race after its claim rolled back whole; a failed batch
// retried event by event; no deadlock between batches; the ledger exact under concurrency.
import { describe, expect, it } from "vitest";
import { eq, sql } from "drizzle-orm";
import Stripe from "stripe";
import { campaigns, creditEntries, purchases, stripeEvents } from "@/db/schema";
import { runOrgAction } from "@/lib/actions/org-action";
import { startTopUpDef } from "@/lib/topups/actions";
import { OneCallBatcher, settlePaidTopUpInOneCall, settlePaidTopUpsInOneCall } from "@/lib/topups/settle-paid";
import { processStripeEvent } from "@/lib/webhooks/process";
import { campaignsToResume } from "@/lib/campaigns/rules";
import { formatCredits } from "@/lib/money/money";
import { stripe } from "@/lib/stripe/client";
import { useTestDatabase } from "../support/context";
import { makeCoupon, makeOrg, makePack, makePausedCampaign, makeUser, snapshot } from "../support/fixtures";

const { db } = useTestDatabase();

type Opts = { credits?: number; amount?: number; couponCode?: string; org?: Awaited<ReturnType<typeof makeOrg>> };

type Paid = Awaited<ReturnType<typeof paid>>;

/** A purchase paid at the emulator whose payment_intent.succeeded has not reached us. */
async function paid(opts: Opts = {}) {
  const org = opts.org ?? (await makeOrg(db));
  const admin = await makeUser(db, { orgId: org.id, role: "admin" });
  const pack = await makePack(db, { credits: opts.credits ?? 300, amount: opts.amount ?? 2900 });
  const started = await runOrgAction(
    startTopUpDef,
    admin,
    { orgSlug: org.slug, packId: pack.id, requestId: crypto.randomUUID(), ...(opts.couponCode ? { couponCode: opts.couponCode } : {}) },
    db,
  );
  if (!started.ok) throw new Error(started.error);
  const [purchase] = await db.select().from(purchases).where(eq(purchases.id, started.data.purchaseId));
  const piId = purchase!.stripePaymentIntentId!;
  await stripe().paymentIntents.confirm(piId, { payment_method: "pm_card_visa" });
  const events = await stripe().events.list({ type: "payment_intent.succeeded", limit: 20 });
  const event = events.data.find((e) => (e.data.object as Stripe.PaymentIntent).id === piId) as Stripe.PaymentIntentSucceededEvent;
  return { org, admin, pack, purchaseId: started.data.purchaseId, event };
}

const eventRow = async (id: string) => (await db.select().from(stripeEvents).where(eq(stripeEvents.id, id)))[0];

/**
 * What both paths must leave behind: the whole rows (so a column one path sets and the other
 * does not shows up), with ids, times and this case's own references normalised.
 */
async function effects(orgId: string, purchaseId: string) {
  const s = await snapshot(db, orgId);
  const [org] = await db.execute<Record<string, unknown>>(sql`select * from organizations where id = ${orgId}::uuid`);
  const { id: _o, slug: _s, name: _n, created_at: _c, updated_at: _u, ...orgRest } = org!;
  const p = s.purchases.find((x) => x.id === purchaseId)!;
  const { id: _p, orgId: _po, userId: _pu, packId: _pk, requestId: _pr, stripePaymentIntentId, createdAt: _pc, updatedAt, finalizedAt, ...purchaseRest } = p;
  return {
    org: orgRest,
    ledgerSum: s.ledgerSum,
    purchase: { ...purchaseRest, linked: stripePaymentIntentId !== null, finalized: finalizedAt !== null, touched: updatedAt > p.createdAt },
    entries: s.entries.map(({ id: _e, orgId: _eo, createdAt: _ec, ...e }) => ({
      ...e,
      idempotencyKey: e.idempotencyKey.replace(purchaseId, "<p>"),
      purchaseId: e.purchaseId === purchaseId,
      actorUserId: e.actorUserId !== null,
    })),
    campaigns: s.campaigns
      .map(({ id: _c, orgId: _co, createdAt: _cc, updatedAt: _cu, pausedAt, ...c }) => ({ ...c, paused: pausedAt !== null }))
      .sort((a, b) => a.name.localeCompare(b.name)),
  };
}

describe("one-call settlement of a paid top-up", () => {
  it("leaves exactly the rows the general path leaves (purchase, entry and description, balance, resumed campaigns, event marker)", async () => {
    const results = [];
    for (const oneCall of [true, false]) {
      const org = await makeOrg(db);
      // 1,250 credits: a thousands separator in the entry's description.
      // Paused in this order, a second apart (created in the same millisecond, the order would
      // fall to the random ids).
      for (const [i, [name, cost]] of ([["a", 1000], ["b", 400], ["c", 200], ["d", 5000]] as const).entries()) {
        const c = await makePausedCampaign(db, org.id, cost, name);
        await db.update(campaigns).set({ pausedAt: new Date(Date.UTC(2026, 10, 1, 10, 0, i)) }).where(eq(campaigns.id, c.id));
      }
      const { purchaseId, event } = await paid({ org, credits: 1250, amount: 9900 });
      expect(await processStripeEvent(db, event, { oneCall })).toEqual({ result: "processed", detail: `purchase ${purchaseId} succeeded` });
      const row = await eventRow(event.id);
      expect(row).toMatchObject({ type: "payment_intent.succeeded", attempts: 1, lastError: null, livemode: false });
      expect(row!.processedAt).not.toBeNull();
      expect((row!.payload as { id: string }).id).toBe(event.id);
      results.push(await effects(org.id, purchaseId));
    }
    expect(results[0]).toEqual(results[1]);
    // 1,250 covers a (1,000) then c (200) in pause order; b (400) and d do not fit after a.
    expect(results[0]!.campaigns.map((c) => `${c.name}:${c.status}`)).toEqual(["a:active", "b:paused", "c:active", "d:paused"]);
    expect(results[0]!.entries).toEqual([
      expect.objectContaining({ kind: "purchase", amount: 1250, balanceAfter: 1250, idempotencyKey: "purchase:<p>", description: `Top-up: Starter (${formatCredits(1250)} credits)`, purchaseId: true, actorUserId: true }),
    ]);
  });

  it("resumes in the order campaignsToResume does, ties at the same pause time broken by id", async () => {
    const org = await makeOrg(db);
    const at = new Date("2026-11-01T10:00:00.123Z");
    const costs = [300, 100, 300, 50, 200, 100, 400, 100];
    for (const [i, cost] of costs.entries()) {
      const c = await makePausedCampaign(db, org.id, cost, `t${i}`);
      // Half share one pause time (microseconds differ below the millisecond, as JS cannot see).
      const when = i % 2 === 0 ? sql`${at.toISOString()}::timestamptz + make_interval(secs => ${i} * 0.000001)` : sql`${at.toISOString()}::timestamptz - make_interval(secs => ${i})`;
      await db.execute(sql`update campaigns set paused_at = ${when} where id = ${c.id}::uuid`);
    }
    const before = await db.select().from(campaigns).where(eq(campaigns.orgId, org.id));
    const expected = campaignsToResume(700, before.map((c) => ({ id: c.id, costPerDelivery: c.costPerDelivery, pausedAt: c.pausedAt })));
    const { event } = await paid({ org, credits: 700 });
    const settled = await settlePaidTopUpInOneCall(db, event);
    expect(settled.outcome).toBe("processed");
    expect(settled.outcome === "processed" && [...settled.resumedCampaignIds].sort()).toEqual([...expected].sort());
    const after = await db.select().from(campaigns).where(eq(campaigns.orgId, org.id));
    expect(after.filter((c) => c.status === "active").map((c) => c.id).sort()).toEqual([...expected].sort());
    expect(expected.length).toBeGreaterThan(1);
  });

  it("answers slow having written nothing for every case the general path must take", async () => {
    const coupon = await makeCoupon(db, { percentOff: 10 });
    const cases: Record<string, () => Promise<Stripe.PaymentIntentSucceededEvent>> = {
      "a coupon": async () => (await paid({ couponCode: coupon.code })).event,
      "an amount that differs": async () => {
        const { event } = await paid();
        return { ...event, data: { object: { ...event.data.object, amount_received: event.data.object.amount_received + 1 } } };
      },
      "a currency that differs": async () => {
        const { event } = await paid();
        return { ...event, data: { object: { ...event.data.object, currency: "eur" } } };
      },
      "no purchase of ours": async () => {
        const { event } = await paid();
        return { ...event, id: `evt_other_${crypto.randomUUID()}`, data: { object: { ...event.data.object, id: "pi_not_ours", metadata: {} } } };
      },
      "saving the card for later": async () => {
        const { event } = await paid();
        return { ...event, data: { object: { ...event.data.object, setup_future_usage: "off_session" } } };
      },
      "a purchase already succeeded": async () => {
        const { event, purchaseId } = await paid();
        await db.update(purchases).set({ status: "succeeded", finalizedAt: new Date() }).where(eq(purchases.id, purchaseId));
        return { ...event, id: `evt_again_${crypto.randomUUID()}` };
      },
      "a retry after a recorded failure": async () => {
        const { event } = await paid();
        await db.insert(stripeEvents).values({ id: event.id, type: event.type, livemode: false, payload: event, attempts: 1, lastError: "earlier failure" });
        return event;
      },
    };
    for (const [label, make] of Object.entries(cases)) {
      const event = await make();
      const entriesBefore = (await db.select({ n: sql<number>`count(*)::int` }).from(creditEntries))[0]!.n;
      const eventBefore = await eventRow(event.id);
      expect(await settlePaidTopUpInOneCall(db, event), label).toEqual({ outcome: "slow" });
      expect((await db.select({ n: sql<number>`count(*)::int` }).from(creditEntries))[0]!.n, label).toBe(entriesBefore);
      expect(await eventRow(event.id), label).toEqual(eventBefore);
    }
  });

  it("a coupon purchase still settles, through the general path", async () => {
    const coupon = await makeCoupon(db, { percentOff: 10 });
    const { org, event } = await paid({ couponCode: coupon.code });
    expect(await processStripeEvent(db, event)).toMatchObject({ result: "processed" });
    const s = await snapshot(db, org.id);
    expect(s.balance).toBe(300);
    expect(s.ledgerSum).toBe(300);
    expect(s.purchases[0]!.status).toBe("succeeded");
  });

  it("a race found after the claim rolls the call back whole (CL001) and the general path settles", async () => {
    const { org, purchaseId, event } = await paid();
    // The purchase's ledger key is already taken (as if another path had granted it but not yet
    // marked the purchase): the function finds it after claiming the event.
    await db.execute(sql`
      insert into credit_entries (org_id, kind, amount, balance_after, idempotency_key, description, purchase_id)
      values (${org.id}::uuid, 'purchase', 300, 300, ${`purchase:${purchaseId}`}, 'granted elsewhere', ${purchaseId}::uuid)`);
    await db.execute(sql`update organizations set balance = 300 where id = ${org.id}::uuid`);
    await expect(settlePaidTopUpInOneCall(db, event)).rejects.toMatchObject({ cause: expect.objectContaining({ code: "CL001" }) });
    expect(await eventRow(event.id)).toBeUndefined();
    expect((await snapshot(db, org.id)).purchases[0]!.status).toBe("pending");
    // The webhook falls back to the general path: processed, credited once.
    expect(await processStripeEvent(db, event)).toMatchObject({ result: "processed" });
    const s = await snapshot(db, org.id);
    expect(s.entries).toHaveLength(1);
    expect(s.balance).toBe(300);
    expect(s.ledgerSum).toBe(300);
    expect(s.purchases[0]!.status).toBe("succeeded");
    expect((await eventRow(event.id))!.processedAt).not.toBeNull();
  });

  it("fresh events for one organisation and duplicates of each, all at once: one entry per purchase, balance = SUM", async () => {
    const org = await makeOrg(db);
    const paidOnes: Paid[] = [];
    for (let i = 0; i < 12; i++) paidOnes.push(await paid({ org, credits: 100 + i }));
    const deliveries = paidOnes.flatMap((p) => [p.event, p.event, p.event]);
    const outcomes = await Promise.all(deliveries.map((e) => processStripeEvent(db, e)));
    expect(outcomes.filter((o) => o.result === "processed")).toHaveLength(12);
    expect(outcomes.filter((o) => o.result === "duplicate")).toHaveLength(24);
    const s = await snapshot(db, org.id);
    expect(s.entries).toHaveLength(12);
    const total = paidOnes.reduce((a, p) => a + p.pack.credits, 0);
    expect(s.balance).toBe(total);
    expect(s.ledgerSum).toBe(total);
    expect(s.purchases.every((p) => p.status === "succeeded")).toBe(true);
  });

  it("the entry's description formats credits as formatCredits does", async () => {
    for (const n of [1, 12, 999, 1000, 12345, 999999, 1000000, 2147483647]) {
      const [row] = await db.execute<{ s: string }>(sql`select to_char(${n}::int, 'FM999,999,999,990') as s`);
      expect(row!.s).toBe(formatCredits(n));
    }
  });

  it("a batch leaves the rows the same events leave one by one through the general path (campaigns resumed after each grant)", async () => {
    const results = [];
    for (const batched of [true, false]) {
      const org = await makeOrg(db);
      // 100 then 100: after the first, a (100) resumes; after the second, b (150) does too —
      // each grant's resume sees the campaigns still paused, as one by one.
      await makePausedCampaign(db, org.id, 100, "a");
      await makePausedCampaign(db, org.id, 150, "b");
      await makePausedCampaign(db, org.id, 1000, "c");
      const paidOnes: Paid[] = [];
      for (let i = 0; i < 4; i++) paidOnes.push(await paid({ org, credits: 100 }));
      if (batched) {
        const out = await settlePaidTopUpsInOneCall(db, paidOnes.map((p) => p.event));
        expect(out.map((o) => o.outcome)).toEqual(["processed", "processed", "processed", "processed"]);
        expect(out.map((o) => (o.outcome === "processed" ? o.balanceAfter : null))).toEqual([100, 200, 300, 400]);
      } else {
        for (const p of paidOnes) expect(await processStripeEvent(db, p.event, { oneCall: false })).toMatchObject({ result: "processed" });
      }
      const s = await snapshot(db, org.id);
      results.push({
        balance: s.balance,
        ledgerSum: s.ledgerSum,
        entries: s.entries.map((e) => ({ amount: e.amount, balanceAfter: e.balanceAfter, description: e.description, purchase: paidOnes.findIndex((p) => p.purchaseId === e.purchaseId) })),
        campaigns: s.campaigns.map((c) => `${c.name}:${c.status}`).sort(),
      });
    }
    expect(results[0]).toEqual(results[1]);
    expect(results[0]!.campaigns).toEqual(["a:active", "b:active", "c:paused"]);
    expect(results[0]!.entries.map((e) => e.purchase)).toEqual([0, 1, 2, 3]);
  });

  it("a batch answers each event for itself: processed, duplicate, slow (coupon), and the same event twice (then a duplicate)", async () => {
    const org = await makeOrg(db);
    const coupon = await makeCoupon(db, { percentOff: 10 });
    const first = await paid({ org });
    expect(await processStripeEvent(db, first.event)).toMatchObject({ result: "processed" });
    const fresh1 = await paid({ org });
    const withCoupon = await paid({ org, couponCode: coupon.code });
    const fresh2 = await paid({ org });
    const out = await settlePaidTopUpsInOneCall(db, [fresh1.event, first.event, withCoupon.event, fresh2.event, fresh2.event]);
    // The second copy of fresh2 sees the claim of the first, in the same transaction: a duplicate
    // (the answer is only given once that transaction has committed).
    expect(out.map((o) => o.outcome)).toEqual(["processed", "duplicate", "slow", "processed", "duplicate"]);
    expect(await eventRow(withCoupon.event.id)).toBeUndefined();
    // The slow ones then take the general path, as the webhook does.
    expect(await processStripeEvent(db, withCoupon.event)).toMatchObject({ result: "processed" });
    expect(await processStripeEvent(db, fresh2.event)).toEqual({ result: "duplicate" });
    const s = await snapshot(db, org.id);
    expect(s.entries).toHaveLength(4);
    expect(s.balance).toBe(1200);
    expect(s.ledgerSum).toBe(1200);
    expect(s.purchases.every((p) => p.status === "succeeded")).toBe(true);
  });

  it("the batcher sends the events that arrive during calls together, in one transaction", async () => {
    const org = await makeOrg(db);
    const paidOnes: Paid[] = [];
    for (let i = 0; i < 10; i++) paidOnes.push(await paid({ org, credits: 10 }));
    const batcher = new OneCallBatcher(db);
    const out = await Promise.all(paidOnes.map((p) => batcher.settle(p.event)));
    expect(out.every((o) => o.outcome === "processed")).toBe(true);
    // xmin: the transaction that wrote each processed marker. The first two events went at once,
    // alone (two calls in flight); the eight that arrived while they ran went together.
    const [row] = await db.execute<{ n: number }>(
      sql`select count(distinct xmin::text)::int as n from stripe_events where id in ${paidOnes.map((p) => p.event.id)}`,
    );
    expect(row!.n).toBe(3);
    const s = await snapshot(db, org.id);
    expect(s.balance).toBe(100);
    expect(s.ledgerSum).toBe(100);
  });

  it("a batch that fails is retried event by event: the bad event fails alone, the others settle", async () => {
    const org = await makeOrg(db);
    const paidOnes: Paid[] = [];
    for (let i = 0; i < 5; i++) paidOnes.push(await paid({ org, credits: 10 }));
    const bad = paidOnes[3]!;
    await db.execute(sql.raw(`
      create or replace function test_fail_one_purchase() returns trigger language plpgsql as $$
      begin
        if new.id = '${bad.purchaseId}'::uuid and new.status = 'succeeded' then raise exception 'injected failure for one purchase'; end if;
        return new;
      end $$;
      create trigger test_fail_one_purchase before update on purchases for each row execute function test_fail_one_purchase();`));
    try {
      const batcher = new OneCallBatcher(db);
      const out = await Promise.allSettled(paidOnes.map((p) => batcher.settle(p.event)));
      expect(out.map((o) => o.status)).toEqual(["fulfilled", "fulfilled", "fulfilled", "rejected", "fulfilled"]);
      expect(await eventRow(bad.event.id)).toBeUndefined();
      const s = await snapshot(db, org.id);
      expect(s.entries).toHaveLength(4);
      expect(s.balance).toBe(40);
      expect(s.ledgerSum).toBe(40);
      expect(s.purchases.find((p) => p.id === bad.purchaseId)!.status).toBe("pending");
    } finally {
      await db.execute(sql.raw(`drop trigger test_fail_one_purchase on purchases; drop function test_fail_one_purchase();`));
    }
  });

  it("two calls with the same organisations in opposite orders, at once: no deadlock, every event settled once", async () => {
    const a = await makeOrg(db);
    const b = await makeOrg(db);
    for (let round = 0; round < 8; round++) {
      const [a1, b1, a2, b2] = [await paid({ org: a, credits: 10 }), await paid({ org: b, credits: 10 }), await paid({ org: a, credits: 10 }), await paid({ org: b, credits: 10 })];
      const [x, y] = await Promise.all([
        settlePaidTopUpsInOneCall(db, [a1.event, b1.event]),
        settlePaidTopUpsInOneCall(db, [b2.event, a2.event]),
      ]);
      expect([...x, ...y].map((o) => o.outcome)).toEqual(["processed", "processed", "processed", "processed"]);
    }
    for (const org of [a, b]) {
      const s = await snapshot(db, org.id);
      expect(s.entries).toHaveLength(16);
      expect(s.balance).toBe(160);
      expect(s.ledgerSum).toBe(160);
    }
  });
});
