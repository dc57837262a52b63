// Metered overage, asserted on the database and on the emulator's meter: deliveries past zero on
// an active Growth/Scale plan debit the balance down to zero (the guarded statement keyed
// delivery:<id>) and record the shortfall as usage in the same transaction, once per delivery,
// exactly under concurrency; plans, statuses and balances without overage still refuse with 402;
// the billing.push-usage job pushes batches (by units threshold and by time) whose identifier is
// committed before the call, so a crash between the push and the mark neither loses nor doubles
// usage, and a crash before the push loses nothing; the renewal invoice carries the usage.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { and, eq, sql } from "drizzle-orm";
import { creditEntries, deliveries, meterBatches, subscriptions, usageRecords } from "@/db/schema";
import { enqueue, schedules } from "@/lib/jobs/queue";
import { runQueuedJobs } from "@/lib/jobs/workers";
import { grantCredits } from "@/lib/ledger/ledger";
import { OVERAGE_METER_EVENT } from "@/lib/plans/catalogue";
import { stripe } from "@/lib/stripe/client";
import { PUSH_USAGE_SINGLETON } from "@/lib/usage/record";
import { runOrgAction } from "@/lib/actions/org-action";
import { changePlanDef } from "@/lib/subscriptions/actions";
import { overagePriceIdFor } from "@/lib/plans/sync";
import { drainDeliveries } from "../support/emulator";
import { assignBatches, pushUsage } from "@/lib/usage/push";
import { overageSummary } from "@/lib/usage/queries";
import { reconcileUsage } from "@/lib/reconcile/usage";
import { useTestDatabase } from "../support/context";
import { clearFaults, injectFault, useWebhookReceiver } from "../support/emulator";
import type Stripe from "stripe";
import { makeOrg, makeUser, snapshot } from "../support/fixtures";
import { callDeliveryApi, deliveryFingerprint, fund, makeActiveCampaign, makeApiKey } from "../support/deliveries";
import { advanceTo, clockOrg, DAY, latestInvoice, subscribePaid, syncPlans } from "../support/subscriptions";

const { db } = useTestDatabase();
useWebhookReceiver(db);
beforeEach(async () => {
  await syncPlans(db);
});
afterEach(async () => {
  delete process.env.METER_PUSH_UNITS;
  await clearFaults();
  await db.execute(sql`drop trigger if exists test_fail_mark on meter_batches`);
});

type Terms = { planKey?: string; status?: string; metered?: boolean };

/** An organisation with a subscription mirror row (Growth, active, with its metered item) and a Stripe customer at the emulator. */
async function world(balance: number, cost = 10, terms: Terms = {}) {
  const org = await makeOrg(db);
  const admin = await makeUser(db, { orgId: org.id, role: "admin" });
  if (balance > 0) await fund(db, org.id, balance);
  const campaign = await makeActiveCampaign(db, org.id, cost);
  const { key } = await makeApiKey(db, org.id, admin.id);
  const customer = await stripe().customers.create({ name: org.name, metadata: { org_id: org.id } });
  const now = Date.now();
  const [sub] = await db
    .insert(subscriptions)
    .values({
      orgId: org.id,
      requestId: crypto.randomUUID(),
      stripeSubscriptionId: `sub_test_${crypto.randomUUID().slice(0, 8)}`,
      stripeCustomerId: customer.id,
      status: terms.status ?? "active",
      planKey: terms.planKey ?? "growth",
      interval: "month",
      stripeMeteredItemId: terms.metered === false ? null : "si_test_metered",
      currentPeriodStart: new Date(now - DAY * 1000),
      currentPeriodEnd: new Date(now + 29 * DAY * 1000),
      ...(terms.status === "past_due" ? { pastDueSince: new Date(), graceEndsAt: new Date(now + 7 * DAY * 1000) } : {}),
    })
    .returning();
  return { org, admin, campaign, key, customer, sub: sub! };
}

const usageOf = (orgId: string) => db.select().from(usageRecords).where(eq(usageRecords.orgId, orgId));
const usageSum = async (orgId: string) => (await usageOf(orgId)).reduce((s, r) => s + r.credits, 0);

/** What the emulator's meter holds for the customer (sum of meter event values). */
async function meteredAtStripe(customerId: string): Promise<number> {
  const meter = (await stripe().billing.meters.list({ status: "active" })).data.find((m) => m.event_name === OVERAGE_METER_EVENT)!;
  const now = Math.floor(Date.now() / 1000);
  const summaries = await stripe().billing.meters.listEventSummaries(meter.id, { customer: customerId, start_time: now - 30 * DAY, end_time: now + 30 * DAY });
  return summaries.data.reduce((s, x) => s + x.aggregated_value, 0);
}

const pushJobs = async () => db.execute<{ state: string }>(sql`select state from pgboss.job where name = 'billing.push-usage'`);

describe("stripe:sync", () => {
  it("creates the Billing Meter and a metered monthly price per overage plan, mirrored locally; a second run changes nothing", async () => {
    const meters = (await stripe().billing.meters.list({ status: "active" })).data.filter((m) => m.event_name === OVERAGE_METER_EVENT);
    expect(meters).toEqual([expect.objectContaining({ default_aggregation: { formula: "sum" }, customer_mapping: { type: "by_id", event_payload_key: "stripe_customer_id" }, value_settings: { event_payload_key: "value" } })]);
    for (const [planKey, unit] of [["growth", 3], ["scale", 2]] as const) {
      const priceId = await overagePriceIdFor(db, planKey);
      const price = await stripe().prices.retrieve(priceId!);
      expect(price).toMatchObject({ unit_amount: unit, currency: "usd", lookup_key: `creditloop_${planKey}_overage_v1`, recurring: { interval: "month", usage_type: "metered", meter: meters[0]!.id } });
    }
    expect(await overagePriceIdFor(db, "starter")).toBeNull();
    const again = await syncPlans(db);
    expect([again.created, again.updated]).toEqual([[], []]);
    expect(again.unchanged).toEqual(expect.arrayContaining([`meter ${OVERAGE_METER_EVENT}`, "price creditloop_growth_overage_v1", "price creditloop_scale_overage_v1"]));
  });
});

describe("deliveries past zero on a plan with overage", () => {
  it("debits the balance to zero and records the shortfall as usage, in the delivery's transaction; the answer says so", async () => {
    const w = await world(25, 40);
    const first = await callDeliveryApi(db, w.campaign.id, { key: w.key, idempotencyKey: "d-1" });
    expect(first.status).toBe(201);
    expect(first.body.delivery).toMatchObject({ status: "delivered", credits: 40, overage_credits: 15, balance_after: 0 });
    // Entirely in overage now: no ledger entry, the balance stays at zero, the campaign keeps running.
    const second = await callDeliveryApi(db, w.campaign.id, { key: w.key, idempotencyKey: "d-2" });
    expect(second.body.delivery).toMatchObject({ credits: 40, overage_credits: 40, balance_after: 0 });

    const s = await snapshot(db, w.org.id);
    expect(s.balance).toBe(0);
    expect(s.ledgerSum).toBe(0);
    expect(s.campaigns[0]).toMatchObject({ status: "active", deliveriesCount: 2 });
    const rows = await db.select().from(deliveries).where(eq(deliveries.orgId, w.org.id)).orderBy(deliveries.createdAt);
    const d1 = rows.find((d) => d.idempotencyKey === "d-1")!;
    const d2 = rows.find((d) => d.idempotencyKey === "d-2")!;
    expect(d1).toMatchObject({ status: "delivered", credits: 40, overageCredits: 15 });
    expect(d2).toMatchObject({ status: "delivered", credits: 40, overageCredits: 40, entryId: null });
    const [entry] = await db.select().from(creditEntries).where(eq(creditEntries.id, d1.entryId!));
    expect(entry).toMatchObject({ idempotencyKey: `delivery:${d1.id}`, amount: -25, balanceAfter: 0, kind: "usage" });
    const usage = await usageOf(w.org.id);
    expect(usage.map((u) => [u.deliveryId, u.credits, u.unitAmount, u.stripeCustomerId, u.batchId]).sort()).toEqual(
      [
        [d1.id, 15, 3, w.customer.id, null],
        [d2.id, 40, 3, w.customer.id, null],
      ].sort(),
    );
    expect(usage[0]!.periodStart.getTime()).toBe(w.sub.currentPeriodStart!.getTime());
  });

  it("a retried request records its usage once, even when the retries race", async () => {
    const w = await world(5, 20);
    const racing = await Promise.all(Array.from({ length: 10 }, () => callDeliveryApi(db, w.campaign.id, { key: w.key, idempotencyKey: "same" })));
    const later = await callDeliveryApi(db, w.campaign.id, { key: w.key, idempotencyKey: "same" });
    for (const r of [...racing, later]) expect(r.body).toEqual(racing[0]!.body);
    expect(racing[0]!.body.delivery).toMatchObject({ credits: 20, overage_credits: 15, balance_after: 0 });
    expect(later.headers.get("idempotent-replayed")).toBe("true");
    expect(await usageOf(w.org.id)).toHaveLength(1);
    expect(await usageSum(w.org.id)).toBe(15);
    expect((await snapshot(db, w.org.id)).entries.filter((e) => e.kind === "usage")).toHaveLength(1);
  });

  it("50 concurrent deliveries past zero: every one delivered, usage sums exactly, the balance never below zero", async () => {
    const w = await world(105, 10);
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => callDeliveryApi(db, w.campaign.id, { key: w.key, idempotencyKey: `c-${i}` })));
    expect(results.map((r) => r.status)).toEqual(Array(50).fill(201));
    const s = await snapshot(db, w.org.id);
    expect(s.balance).toBe(0);
    expect(s.ledgerSum).toBe(0);
    expect(s.entries.filter((e) => e.kind === "usage").reduce((t, e) => t + e.amount, 0)).toBe(-105);
    for (const e of s.entries) expect(e.balanceAfter).toBeGreaterThanOrEqual(0);
    expect(await usageSum(w.org.id)).toBe(50 * 10 - 105);
    // Each delivery is paid exactly: what its entry debited plus its overage is its cost.
    const rows = await db.select().from(deliveries).where(eq(deliveries.orgId, w.org.id));
    for (const d of rows) {
      const debited = d.entryId ? -(await db.select().from(creditEntries).where(eq(creditEntries.id, d.entryId)))[0]!.amount : 0;
      expect(debited + d.overageCredits).toBe(10);
    }
    expect(s.campaigns[0]).toMatchObject({ status: "active", deliveriesCount: 50 });
  });

  it.each([
    ["a plan without overage (Starter)", { planKey: "starter" }],
    ["a past-due subscription (grace period)", { status: "past_due" }],
    ["a trial", { status: "trialing" }],
    ["a subscription without the metered item (annual, or started before overage)", { metered: false }],
  ])("%s still refuses with 402, pauses the campaign and records no usage", async (_name, terms) => {
    const w = await world(5, 10, terms);
    const r = await callDeliveryApi(db, w.campaign.id, { key: w.key, idempotencyKey: "x" });
    expect(r.status).toBe(402);
    expect(r.body.error.code).toBe("insufficient_credits");
    expect(await usageOf(w.org.id)).toEqual([]);
    const s = await snapshot(db, w.org.id);
    expect(s.balance).toBe(5);
    expect(s.campaigns[0]).toMatchObject({ status: "paused", pauseReason: "insufficient_credits" });
  });

  it("a negative balance (credits taken back by a refund) gets no overage", async () => {
    const w = await world(0, 10);
    await db.transaction((tx) => grantCredits(tx, { orgId: w.org.id, amount: -30, kind: "refund_reversal", idempotencyKey: "refund:x", description: "refund" }));
    const before = await deliveryFingerprint(db);
    const r = await callDeliveryApi(db, w.campaign.id, { key: w.key, idempotencyKey: "neg" });
    expect(r.status).toBe(402);
    expect(await usageOf(w.org.id)).toEqual([]);
    expect(before).not.toEqual(await deliveryFingerprint(db)); // refused and paused, as without overage
    expect((await snapshot(db, w.org.id)).balance).toBe(-30);
  });
});

describe("billing.push-usage", () => {
  it("reaching METER_PUSH_UNITS queues one push in the delivery's transaction; the push reports the exact sum", async () => {
    process.env.METER_PUSH_UNITS = "50";
    const w = await world(0, 20);
    await callDeliveryApi(db, w.campaign.id, { key: w.key, idempotencyKey: "u-1" });
    await callDeliveryApi(db, w.campaign.id, { key: w.key, idempotencyKey: "u-2" });
    expect([...(await pushJobs())]).toEqual([]); // 40 < 50
    await callDeliveryApi(db, w.campaign.id, { key: w.key, idempotencyKey: "u-3" });
    await callDeliveryApi(db, w.campaign.id, { key: w.key, idempotencyKey: "u-4" });
    expect([...(await pushJobs())].map((j) => j.state)).toEqual(["created"]); // singleton: one pending push
    const runs = await runQueuedJobs(db, { names: ["billing.push-usage"] });
    expect(runs).toEqual([expect.objectContaining({ ok: true, output: expect.objectContaining({ batched: 1, pushed: 1 }) })]);
    const batches = await db.select().from(meterBatches);
    expect(batches).toEqual([expect.objectContaining({ credits: 80, stripeCustomerId: w.customer.id, pushedAt: expect.any(Date), identifier: `usage-batch:${batches[0]!.id}` })]);
    expect((await usageOf(w.org.id)).every((u) => u.batchId === batches[0]!.id)).toBe(true);
    expect(await meteredAtStripe(w.customer.id)).toBe(80);
  });

  it("below the threshold the periodic push (every METER_PUSH_EVERY_MINUTES) takes it", async () => {
    expect(schedules({})["billing.push-usage"]).toBe("*/5 * * * *");
    expect(schedules({ METER_PUSH_EVERY_MINUTES: "2" })["billing.push-usage"]).toBe("*/2 * * * *");
    expect(() => schedules({ METER_PUSH_EVERY_MINUTES: "90" })).toThrow(/METER_PUSH_EVERY_MINUTES/);
    const w = await world(0, 7);
    await callDeliveryApi(db, w.campaign.id, { key: w.key, idempotencyKey: "t-1" });
    expect([...(await pushJobs())]).toEqual([]);
    // What pg-boss's cron sends every N minutes.
    await enqueue(db, "billing.push-usage", { reason: "cron" }, { singletonKey: PUSH_USAGE_SINGLETON });
    const runs = await runQueuedJobs(db, { names: ["billing.push-usage"] });
    expect(runs.map((r) => r.ok)).toEqual([true]);
    expect(await meteredAtStripe(w.customer.id)).toBe(7);
    // Nothing left: a second run sends nothing more.
    expect(await pushUsage(db)).toEqual({ batched: 0, pushed: 0, alreadyAtStripe: 0, failed: 0, retrying: 0 });
    expect(await meteredAtStripe(w.customer.id)).toBe(7);
  });

  it("a crash between the push and the mark: the next run re-sends the same batch, nothing lost, nothing doubled", async () => {
    const w = await world(0, 30);
    for (let i = 0; i < 3; i++) await callDeliveryApi(db, w.campaign.id, { key: w.key, idempotencyKey: `m-${i}` });
    // The process "dies" right after Stripe accepted: marking the batch pushed fails.
    await db.execute(sql`create or replace function test_fail_mark() returns trigger language plpgsql as $$
      begin if new.pushed_at is not null then raise exception 'injected crash before marking the batch pushed'; end if; return new; end $$`);
    await db.execute(sql`create trigger test_fail_mark before update on meter_batches for each row execute function test_fail_mark()`);
    const crash = await pushUsage(db).catch((e: Error & { cause?: Error }) => e);
    expect(String((crash as Error & { cause?: Error }).cause?.message ?? crash)).toMatch(/injected crash/);
    const [unmarked] = await db.select().from(meterBatches);
    expect(unmarked).toMatchObject({ credits: 90, pushedAt: null });
    expect(await meteredAtStripe(w.customer.id)).toBe(90); // it did reach Stripe

    await db.execute(sql`drop trigger test_fail_mark on meter_batches`);
    // More usage meanwhile goes into a new batch; the old one is re-sent with its identifier.
    await callDeliveryApi(db, w.campaign.id, { key: w.key, idempotencyKey: "m-3" });
    const second = await pushUsage(db);
    expect(second).toMatchObject({ batched: 1, retrying: 0, failed: 0 });
    expect(second.pushed + second.alreadyAtStripe).toBe(2);
    const batches = await db.select().from(meterBatches);
    expect(batches.map((b) => b.credits).sort()).toEqual([30, 90]);
    expect(batches.every((b) => b.pushedAt)).toBe(true);
    expect(batches.find((b) => b.id === unmarked!.id)!.identifier).toBe(unmarked!.identifier);
    expect(await meteredAtStripe(w.customer.id)).toBe(await usageSum(w.org.id));
    expect(await usageSum(w.org.id)).toBe(120);
  });

  it("reconciliation compares our pushed batches with the meter: clean, an unmarked push, marked again, and a batch Stripe never got", async () => {
    const w = await world(0, 30);
    const check = async () => (await reconcileUsage(db, { slugOf: () => w.org.slug, now: new Date(Date.now() + 120_000) })).findings;
    for (let i = 0; i < 2; i++) await callDeliveryApi(db, w.campaign.id, { key: w.key, idempotencyKey: `r-${i}` });
    await pushUsage(db);
    expect(await check()).toEqual([]);

    // Pushed but not marked (the process stopped in between): Stripe holds more than our marks.
    await callDeliveryApi(db, w.campaign.id, { key: w.key, idempotencyKey: "r-2" });
    await db.execute(sql`create or replace function test_fail_mark() returns trigger language plpgsql as $$
      begin if new.pushed_at is not null then raise exception 'injected crash before marking the batch pushed'; end if; return new; end $$`);
    await db.execute(sql`create trigger test_fail_mark before update on meter_batches for each row execute function test_fail_mark()`);
    await pushUsage(db).catch(() => null);
    await db.execute(sql`drop trigger test_fail_mark on meter_batches`);
    const unmarked = await check();
    expect(unmarked).toHaveLength(1);
    expect(unmarked[0]).toMatchObject({ kind: "usage_mismatch", orgId: w.org.id, fixed: false });
    expect(unmarked[0]!.cause).toMatch(/60 credits by our batches, 90 on the meter/);
    expect(unmarked[0]!.cause).toMatch(/30 more are in batches not marked pushed yet/);

    // The next push run marks it (its identifier is a duplicate at Stripe): clean again.
    await pushUsage(db);
    expect(await check()).toEqual([]);

    // A batch marked pushed that Stripe never received.
    await db.insert(meterBatches).values({ id: crypto.randomUUID(), identifier: "usage-batch:phantom", orgId: w.org.id, stripeCustomerId: w.customer.id, credits: 5, eventAt: new Date(), pushedAt: new Date(), attempts: 1 });
    const phantom = await check();
    expect(phantom.map((f) => f.cause)).toEqual([expect.stringMatching(/95 credits by our batches, 90 on the meter/)]);
  });

  it("a crash before the push (batch committed, Stripe never called) is pushed by the next run", async () => {
    const w = await world(0, 11);
    await callDeliveryApi(db, w.campaign.id, { key: w.key, idempotencyKey: "b-1" });
    expect(await assignBatches(db)).toBe(1); // …and the process dies here
    expect(await meteredAtStripe(w.customer.id)).toBe(0);
    const [batch] = await db.select().from(meterBatches);
    expect(batch!.pushedAt).toBeNull();
    expect(await pushUsage(db)).toMatchObject({ batched: 0, pushed: 1 });
    expect(await meteredAtStripe(w.customer.id)).toBe(11);
  });

  it("Stripe failing: the job fails (pg-boss retries) with the attempt recorded; the retry pushes once", async () => {
    const w = await world(0, 13);
    await callDeliveryApi(db, w.campaign.id, { key: w.key, idempotencyKey: "f-1" });
    await injectFault({ method: "POST", path: "^/v1/billing/meter_events$", status: 500, count: 10 });
    await expect(pushUsage(db)).rejects.toThrow();
    const [failed] = await db.select().from(meterBatches);
    expect(failed).toMatchObject({ pushedAt: null, failedAt: null, attempts: 1 });
    expect(await meteredAtStripe(w.customer.id)).toBe(0);
    await clearFaults();
    expect(await pushUsage(db)).toMatchObject({ pushed: 1 });
    expect(await meteredAtStripe(w.customer.id)).toBe(13);
  });
});

describe("usage on the next invoice", () => {
  it("a Growth subscription carries the metered item; overage usage appears on the renewal invoice", async () => {
    const w = await clockOrg(db);
    await subscribePaid(db, w, "growth", "month");
    const [row] = await db.select().from(subscriptions).where(eq(subscriptions.orgId, w.org.id));
    expect(row).toMatchObject({ status: "active", planKey: "growth", stripeMeteredItemId: expect.stringMatching(/^si_/) });
    expect((await snapshot(db, w.org.id)).balance).toBe(4000);

    const campaign = await makeActiveCampaign(db, w.org.id, 4_100);
    const { key } = await makeApiKey(db, w.org.id, w.admin.id);
    const r = await callDeliveryApi(db, campaign.id, { key, idempotencyKey: "big" });
    expect(r.body.delivery).toMatchObject({ credits: 4_100, overage_credits: 100, balance_after: 0 });
    await pushUsage(db);

    await advanceTo(w.clock.id, Math.floor(row!.currentPeriodEnd!.getTime() / 1000) + 2 * 3600);
    const invoice = await latestInvoice(row!.stripeSubscriptionId!);
    expect(invoice.billing_reason).toBe("subscription_cycle");
    const usageLine = invoice.lines.data.find((l) => l.quantity === 100);
    expect(usageLine).toMatchObject({ amount: 300 });
    expect(invoice.amount_due).toBe(9_900 + 300);
    expect(invoice.status).toBe("paid");
  });

  it("plan changes carry the metered item: an upgrade swaps in the new plan's overage price; a downgrade to Starter bills the period's usage, then drops it; annual drops it", async () => {
    const meteredPrice = (sub: Stripe.Subscription) => sub.items.data.find((i) => i.price.recurring?.usage_type === "metered")?.price.id ?? null;
    const rowOf = async (orgId: string) => (await db.select().from(subscriptions).where(eq(subscriptions.orgId, orgId)))[0]!;
    const change = (w: Awaited<ReturnType<typeof clockOrg>>, planKey: string, interval: "month" | "year") =>
      runOrgAction(changePlanDef, w.admin, { orgSlug: w.org.slug, planKey, interval, requestId: crypto.randomUUID() }, db);

    const up = await clockOrg(db);
    await subscribePaid(db, up, "growth", "month");
    expect(await change(up, "scale", "month")).toMatchObject({ ok: true, data: { applied: true } });
    await drainDeliveries();
    let r = await rowOf(up.org.id);
    expect(r).toMatchObject({ planKey: "scale", stripeMeteredItemId: expect.stringMatching(/^si_/) });
    expect(meteredPrice(await stripe().subscriptions.retrieve(r.stripeSubscriptionId!))).toBe(await overagePriceIdFor(db, "scale"));

    const down = await clockOrg(db);
    await subscribePaid(db, down, "growth", "month");
    const campaign = await makeActiveCampaign(db, down.org.id, 4_010);
    const { key } = await makeApiKey(db, down.org.id, down.admin.id);
    expect(await change(down, "starter", "month")).toMatchObject({ ok: true, data: { kind: "at_period_end" } });
    r = await rowOf(down.org.id);
    expect(r.stripeMeteredItemId).not.toBeNull(); // scheduling the downgrade keeps this period's item
    expect((await callDeliveryApi(db, campaign.id, { key, idempotencyKey: "late-in-growth" })).body.delivery).toMatchObject({ overage_credits: 10 });
    await pushUsage(db);
    await advanceTo(down.clock.id, Math.floor(r.currentPeriodEnd!.getTime() / 1000) + 2 * 3600);
    const renewal = await latestInvoice(r.stripeSubscriptionId!);
    const growthOverage = await overagePriceIdFor(db, "growth");
    expect(renewal.lines.data.find((l) => l.pricing?.price_details?.price === growthOverage)).toMatchObject({ quantity: 10, amount: 30 });
    r = await rowOf(down.org.id);
    expect(r).toMatchObject({ planKey: "starter", stripeMeteredItemId: null });

    const annual = await clockOrg(db);
    await subscribePaid(db, annual, "growth", "month");
    expect(await change(annual, "growth", "year")).toMatchObject({ ok: true, data: { applied: true } });
    await drainDeliveries();
    r = await rowOf(annual.org.id);
    expect(r).toMatchObject({ interval: "year", stripeMeteredItemId: null });
  });

  it("a plan without overage (Starter) gets no metered item", async () => {
    const w = await clockOrg(db);
    await subscribePaid(db, w, "starter", "month");
    const [row] = await db.select().from(subscriptions).where(and(eq(subscriptions.orgId, w.org.id)));
    expect(row!.stripeMeteredItemId).toBeNull();
    const sub = await stripe().subscriptions.retrieve(row!.stripeSubscriptionId!);
    expect(sub.items.data).toHaveLength(1);
  });
});

describe("the billing overview's overage summary", () => {
  it("shows the plan's overage status and this period's usage not yet invoiced (credits and amount)", async () => {
    const w = await world(0, 10);
    await callDeliveryApi(db, w.campaign.id, { key: w.key, idempotencyKey: "s-1" });
    await callDeliveryApi(db, w.campaign.id, { key: w.key, idempotencyKey: "s-2" });
    expect(await overageSummary(db, w.org.id)).toMatchObject({ planName: "Growth", state: "on", unitAmount: 3, credits: 20, amount: 60, reportedCredits: 0 });
    await pushUsage(db);
    expect(await overageSummary(db, w.org.id)).toMatchObject({ credits: 20, amount: 60, reportedCredits: 20 });

    const starter = await world(0, 10, { planKey: "starter" });
    expect(await overageSummary(db, starter.org.id)).toMatchObject({ state: "off", credits: 0 });
    const late = await world(0, 10, { status: "past_due" });
    expect(await overageSummary(db, late.org.id)).toMatchObject({ state: "paused", reason: "your plan is past due" });
    expect(await overageSummary(db, (await makeOrg(db)).id)).toBeNull();
  });
});
