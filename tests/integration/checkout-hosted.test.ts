// The hosted checkout path (issue 7 part 10) through the real SDK, the emulator's hosted checkout
// page and signed webhooks: a pack bought through a Checkout Session is granted once whatever
// arrives (checkout.session.completed, its redelivery, a second copy under another event id, the
// PaymentIntent's own payment_intent.succeeded); an async payment waits and is granted once when
// it settles; a plan started through a session ends with one live subscription and one grant; an
// open checkout for another plan is expired before its row ends. Every test asserts on the database.
import { beforeEach, describe, expect, it } from "vitest";
import { and, eq, notInArray, sql } from "drizzle-orm";
import type Stripe from "stripe";
import { couponRedemptions, creditEntries, purchases, subscriptions, ENDED_SUBSCRIPTION_STATUSES } from "@/db/schema";
import { runOrgAction } from "@/lib/actions/org-action";
import { planByKey } from "@/lib/plans/catalogue";
import { stripe } from "@/lib/stripe/client";
import { startPlanCheckoutDef, startSubscriptionDef } from "@/lib/subscriptions/actions";
import { startTopUpCheckoutDef, startTopUpDef, confirmTestCardDef } from "@/lib/topups/actions";
import { reclaimAllAbandonedHolds } from "@/lib/topups/reclaim";
import { couponOverRedemptions } from "@/lib/staff/queries";
import { processStripeEvent } from "@/lib/webhooks/process";
import { useTestDatabase } from "../support/context";
import { drainDeliveries, resendEvent, settlePaymentIntent, setProcessingDelay, useWebhookReceiver } from "../support/emulator";
import { makeCoupon, makeOrg, makePack, makePausedCampaign, makeUser, snapshot } from "../support/fixtures";
import { syncPlans } from "../support/subscriptions";

const { db } = useTestDatabase();
useWebhookReceiver(db);

/** Submits the emulator's hosted checkout page with a test card (redirects not followed). */
const payOnPage = (url: string, card: string) =>
  fetch(url, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: `payment_method=${card}`, redirect: "manual" });

async function eventsOf(type: string): Promise<Stripe.Event[]> {
  const out: Stripe.Event[] = [];
  for await (const e of stripe().events.list({ type, limit: 100 })) out.push(e);
  return out;
}

const ageHolds = (minutes: number) =>
  db.execute(sql`update coupon_redemptions set created_at = now() - make_interval(mins => ${minutes}) where status = 'held'`);
const holdOf = async (purchaseId: string) => (await db.select().from(couponRedemptions).where(eq(couponRedemptions.purchaseId, purchaseId)))[0];

async function world() {
  const org = await makeOrg(db);
  const member = await makeUser(db, { orgId: org.id, role: "member" });
  const admin = await makeUser(db, { orgId: org.id, role: "admin" });
  const pack = await makePack(db, { credits: 500, amount: 4900 });
  return { org, member, admin, pack };
}

describe("a pack bought through a Checkout Session", () => {
  it("is granted once: completed event, its redelivery, a second copy and payment_intent.succeeded", async () => {
    const w = await world();
    const paused = await makePausedCampaign(db, w.org.id, 300);
    const requestId = crypto.randomUUID();
    const input = { orgSlug: w.org.slug, packId: w.pack.id, requestId };
    const started = await runOrgAction(startTopUpCheckoutDef, w.member, input, db);
    if (!started.ok) throw new Error(started.error);
    // A double submit gets the same purchase and the same session.
    const again = await runOrgAction(startTopUpCheckoutDef, w.member, input, db);
    expect(again).toMatchObject({ ok: true, data: started.data });
    let s = await snapshot(db, w.org.id);
    expect(s.purchases).toHaveLength(1);
    expect(s.purchases[0]).toMatchObject({ id: started.data.purchaseId, status: "pending", stripePaymentIntentId: null });

    const res = await payOnPage(started.data.url, "pm_card_visa");
    expect(res.status).toBe(303);
    const location = new URL(res.headers.get("location")!);
    expect(location.pathname).toBe(`/orgs/${w.org.slug}/billing/purchases/${started.data.purchaseId}`);
    const sessionId = location.searchParams.get("session_id")!;
    await drainDeliveries();

    const session = await stripe().checkout.sessions.retrieve(sessionId);
    expect(session).toMatchObject({ status: "complete", payment_status: "paid", client_reference_id: started.data.purchaseId, amount_total: 4900 });
    s = await snapshot(db, w.org.id);
    expect(s.purchases[0]).toMatchObject({ status: "succeeded", stripePaymentIntentId: session.payment_intent });
    expect(s.entries.filter((e) => e.idempotencyKey === `purchase:${started.data.purchaseId}`)).toHaveLength(1);
    expect(s.balance).toBe(500);
    expect(s.ledgerSum).toBe(s.balance);
    expect(s.campaigns.find((c) => c.id === paused.id)?.status).toBe("active");

    // Redeliveries, a copy under another event id, and the intent's own event: nothing changes.
    const [completed] = await eventsOf("checkout.session.completed");
    const [succeeded] = (await eventsOf("payment_intent.succeeded")).filter((e) => (e.data.object as Stripe.PaymentIntent).id === session.payment_intent);
    expect(completed && succeeded).toBeTruthy();
    await resendEvent(completed!.id);
    await resendEvent(succeeded!.id);
    await drainDeliveries();
    await processStripeEvent(db, { ...completed!, id: `${completed!.id}_copy` });
    await processStripeEvent(db, { ...succeeded!, id: `${succeeded!.id}_copy` });
    const after = await snapshot(db, w.org.id);
    expect(after.entries).toHaveLength(1);
    expect(after.balance).toBe(500);
    expect(after.ledgerSum).toBe(after.balance);

    // The purchase is finished: the same request cannot open another session.
    const late = await runOrgAction(startTopUpCheckoutDef, w.member, input, db);
    expect(late).toMatchObject({ ok: false, code: "conflict" });
  });

  it("a declined card changes nothing; an async payment is granted once when it settles", async () => {
    const w = await world();
    await setProcessingDelay(3600);
    const started = await runOrgAction(startTopUpCheckoutDef, w.member, { orgSlug: w.org.slug, packId: w.pack.id, requestId: crypto.randomUUID() }, db);
    if (!started.ok) throw new Error(started.error);
    expect((await payOnPage(started.data.url, "pm_card_visa_chargeDeclined")).status).toBe(402);
    await drainDeliveries();
    let s = await snapshot(db, w.org.id);
    expect(s.purchases[0]!.status).toBe("pending");
    expect(s.entries).toHaveLength(0);

    expect((await payOnPage(started.data.url, "pm_card_processing_succeeds")).status).toBe(303);
    await drainDeliveries();
    s = await snapshot(db, w.org.id);
    const [purchase] = await db.select().from(purchases).where(eq(purchases.id, started.data.purchaseId));
    expect(purchase!.status).toBe("pending");
    expect(purchase!.stripePaymentIntentId).toMatch(/^pi_/);
    expect(s.entries).toHaveLength(0);

    await settlePaymentIntent(purchase!.stripePaymentIntentId!, "succeed");
    await drainDeliveries();
    expect(await eventsOf("checkout.session.async_payment_succeeded")).toHaveLength(1);
    s = await snapshot(db, w.org.id);
    expect(s.purchases[0]!.status).toBe("succeeded");
    expect(s.entries).toHaveLength(1);
    expect(s.balance).toBe(500);
    expect(s.ledgerSum).toBe(s.balance);
    await setProcessingDelay(5);
  });
});

describe("a hosted checkout with a coupon, paid after its hold was reclaimed", () => {
  // The session outlives the hold: the sweep closes the purchase and frees the hold after
  // HOLD_TTL_MS, but the page can still be paid. Money in ⇒ credits in, exactly once.
  it("is granted once, and its released hold is redeemed again", async () => {
    const w = await world();
    const coupon = await makeCoupon(db, { percentOff: 10, maxRedemptions: 5 });
    const started = await runOrgAction(startTopUpCheckoutDef, w.admin, { orgSlug: w.org.slug, packId: w.pack.id, couponCode: coupon.code, requestId: crypto.randomUUID() }, db);
    if (!started.ok) throw new Error(started.error);
    await ageHolds(31);
    expect(await reclaimAllAbandonedHolds(db)).toBe(1);
    expect((await snapshot(db, w.org.id)).purchases[0]).toMatchObject({ status: "canceled", failureCode: "abandoned" });
    expect(await holdOf(started.data.purchaseId)).toMatchObject({ status: "released" });

    expect((await payOnPage(started.data.url, "pm_card_visa")).status).toBe(303);
    await drainDeliveries();

    const s = await snapshot(db, w.org.id);
    const pi = (await eventsOf("payment_intent.succeeded")).map((e) => e.data.object as Stripe.PaymentIntent).find((p) => p.metadata.checkout_purchase_id === started.data.purchaseId)!;
    expect(pi).toMatchObject({ amount_received: 4410 });
    expect(s.purchases[0]).toMatchObject({ status: "succeeded", stripePaymentIntentId: pi.id, failureCode: null, discount: 490, amount: 4410 });
    expect(s.entries).toHaveLength(1);
    expect(s.entries[0]).toMatchObject({ idempotencyKey: `purchase:${started.data.purchaseId}`, amount: 500 });
    expect(s.balance).toBe(500);
    expect(s.ledgerSum).toBe(s.balance);
    expect(await holdOf(started.data.purchaseId)).toMatchObject({ status: "redeemed", overRedemption: null });

    // Both events again, under other ids: nothing more.
    for (const type of ["checkout.session.completed", "payment_intent.succeeded"]) for (const e of await eventsOf(type)) await processStripeEvent(db, { ...e, id: `${e.id}_copy` });
    const after = await snapshot(db, w.org.id);
    expect(after.entries).toHaveLength(1);
    expect(after.balance).toBe(500);
  });

  it("the intent's own payment_intent.succeeded alone grants it (before the session's event)", async () => {
    const w = await world();
    const coupon = await makeCoupon(db, { percentOff: 10, maxRedemptions: 5 });
    const started = await runOrgAction(startTopUpCheckoutDef, w.admin, { orgSlug: w.org.slug, packId: w.pack.id, couponCode: coupon.code, requestId: crypto.randomUUID() }, db);
    if (!started.ok) throw new Error(started.error);
    await ageHolds(31);
    expect(await reclaimAllAbandonedHolds(db)).toBe(1);
    // The intent Stripe's page makes (metadata from payment_intent_data), paid; its session's
    // checkout.session.completed has not arrived yet.
    const pi = await stripe().paymentIntents.create({ amount: 4410, currency: "usd", metadata: { checkout_purchase_id: started.data.purchaseId, org_id: w.org.id } });
    await stripe().paymentIntents.confirm(pi.id, { payment_method: "pm_card_visa" });
    await drainDeliveries();
    const s = await snapshot(db, w.org.id);
    expect(s.purchases[0]).toMatchObject({ status: "succeeded", stripePaymentIntentId: pi.id });
    expect(s.entries).toHaveLength(1);
    expect(s.balance).toBe(500);
    expect(s.ledgerSum).toBe(s.balance);
    expect(await holdOf(started.data.purchaseId)).toMatchObject({ status: "redeemed", overRedemption: null });
  });

  it("is granted and flagged as an over-redemption when the coupon's cap was reached meanwhile", async () => {
    const w = await world();
    const coupon = await makeCoupon(db, { percentOff: 10, maxRedemptions: 1 });
    const started = await runOrgAction(startTopUpCheckoutDef, w.admin, { orgSlug: w.org.slug, packId: w.pack.id, couponCode: coupon.code, requestId: crypto.randomUUID() }, db);
    if (!started.ok) throw new Error(started.error);
    await ageHolds(31);
    // Another organisation's checkout with the same code reclaims the hold and uses the last redemption.
    const other = await world();
    const theirs = await runOrgAction(startTopUpDef, other.admin, { orgSlug: other.org.slug, packId: other.pack.id, couponCode: coupon.code, requestId: crypto.randomUUID() }, db);
    if (!theirs.ok) throw new Error(theirs.error);
    expect((await snapshot(db, w.org.id)).purchases[0]).toMatchObject({ status: "canceled" });
    await runOrgAction(confirmTestCardDef, other.admin, { orgSlug: other.org.slug, purchaseId: theirs.data.purchaseId, paymentMethod: "pm_card_visa" }, db);
    await drainDeliveries();
    expect(await holdOf(theirs.data.purchaseId)).toMatchObject({ status: "redeemed", overRedemption: null });

    expect((await payOnPage(started.data.url, "pm_card_visa")).status).toBe(303);
    await drainDeliveries();
    const s = await snapshot(db, w.org.id);
    expect(s.purchases[0]).toMatchObject({ status: "succeeded" });
    expect(s.entries).toHaveLength(1);
    expect(s.balance).toBe(500);
    expect(s.ledgerSum).toBe(s.balance);
    expect(await holdOf(started.data.purchaseId)).toMatchObject({ status: "redeemed", overRedemption: "max_redemptions" });
  });
});

describe("a first-purchase-only coupon", () => {
  it("N hosted checkouts at once (several tabs): one gets the coupon, the others are refused and leave nothing", async () => {
    const w = await world();
    const coupon = await makeCoupon(db, { percentOff: 20, firstPurchaseOnly: true });
    const starts = await Promise.all(
      Array.from({ length: 6 }, () => runOrgAction(startTopUpCheckoutDef, w.admin, { orgSlug: w.org.slug, packId: w.pack.id, couponCode: coupon.code, requestId: crypto.randomUUID() }, db)),
    );
    const started = starts.flatMap((r) => (r.ok ? [r.data] : []));
    expect(started).toHaveLength(1);
    for (const r of starts.filter((r) => !r.ok)) expect(r).toMatchObject({ ok: false, code: "coupon_invalid", error: expect.stringMatching(/first purchase.*another checkout/) });
    let s = await snapshot(db, w.org.id);
    expect(s.purchases).toHaveLength(1);
    expect(await db.select().from(couponRedemptions).where(eq(couponRedemptions.couponId, coupon.id))).toHaveLength(1);

    // Every tab that got a page pays it: one discounted purchase, redeemed cleanly.
    for (const c of started) expect((await payOnPage(c.url, "pm_card_visa")).status).toBe(303);
    await drainDeliveries();
    s = await snapshot(db, w.org.id);
    expect(s.purchases).toMatchObject([{ status: "succeeded", discount: 980 }]);
    expect(s.balance).toBe(500);
    expect(await db.select().from(couponRedemptions).where(eq(couponRedemptions.couponId, coupon.id))).toMatchObject([{ status: "redeemed", overRedemption: null }]);
    // And now it is not the first purchase any more.
    const after = await runOrgAction(startTopUpCheckoutDef, w.admin, { orgSlug: w.org.slug, packId: w.pack.id, couponCode: coupon.code, requestId: crypto.randomUUID() }, db);
    expect(after).toMatchObject({ ok: false, code: "coupon_invalid", error: expect.stringMatching(/first purchase/) });
  });

  it("a payment with it after another purchase succeeded is honoured and flagged for staff", async () => {
    const w = await world();
    const coupon = await makeCoupon(db, { percentOff: 20, firstPurchaseOnly: true });
    // A: a hosted checkout with the code, reclaimed as abandoned (its page stays open).
    const a = await runOrgAction(startTopUpCheckoutDef, w.admin, { orgSlug: w.org.slug, packId: w.pack.id, couponCode: coupon.code, requestId: crypto.randomUUID() }, db);
    if (!a.ok) throw new Error(a.error);
    await ageHolds(31);
    expect(await reclaimAllAbandonedHolds(db)).toBe(1);
    // B: the organisation's first purchase after all, without the code.
    const b = await runOrgAction(startTopUpDef, w.admin, { orgSlug: w.org.slug, packId: w.pack.id, requestId: crypto.randomUUID() }, db);
    if (!b.ok) throw new Error(b.error);
    await runOrgAction(confirmTestCardDef, w.admin, { orgSlug: w.org.slug, purchaseId: b.data.purchaseId, paymentMethod: "pm_card_visa" }, db);
    await drainDeliveries();
    // A is paid late on Stripe's page, at the discounted price: granted, and flagged.
    expect((await payOnPage(a.data.url, "pm_card_visa")).status).toBe(303);
    await drainDeliveries();
    const s = await snapshot(db, w.org.id);
    expect(s.purchases.map((p) => p.status)).toEqual(["succeeded", "succeeded"]);
    expect(s.balance).toBe(1000);
    expect(s.ledgerSum).toBe(s.balance);
    expect(await holdOf(a.data.purchaseId)).toMatchObject({ status: "redeemed", overRedemption: "first_purchase_only" });
    expect(await couponOverRedemptions(db)).toMatchObject([{ code: coupon.code, purchaseId: a.data.purchaseId, reason: "first_purchase_only" }]);
  });

  it("a hold still held when another purchase succeeds is flagged when it is paid", async () => {
    const w = await world();
    const coupon = await makeCoupon(db, { percentOff: 20, firstPurchaseOnly: true });
    const a = await runOrgAction(startTopUpCheckoutDef, w.admin, { orgSlug: w.org.slug, packId: w.pack.id, couponCode: coupon.code, requestId: crypto.randomUUID() }, db);
    if (!a.ok) throw new Error(a.error);
    const b = await runOrgAction(startTopUpDef, w.admin, { orgSlug: w.org.slug, packId: w.pack.id, requestId: crypto.randomUUID() }, db);
    if (!b.ok) throw new Error(b.error);
    await runOrgAction(confirmTestCardDef, w.admin, { orgSlug: w.org.slug, purchaseId: b.data.purchaseId, paymentMethod: "pm_card_visa" }, db);
    await drainDeliveries();
    expect((await payOnPage(a.data.url, "pm_card_visa")).status).toBe(303);
    await drainDeliveries();
    const s = await snapshot(db, w.org.id);
    expect(s.purchases.map((p) => p.status)).toEqual(["succeeded", "succeeded"]);
    expect(s.balance).toBe(1000);
    expect(await holdOf(a.data.purchaseId)).toMatchObject({ status: "redeemed", overRedemption: "first_purchase_only" });
  });
});

describe("a plan started through a Checkout Session", () => {
  beforeEach(async () => {
    await syncPlans(db);
  });

  it("ends with one live subscription and one grant, whatever is redelivered", async () => {
    const w = await world();
    const growth = planByKey("growth")!;
    const input = { orgSlug: w.org.slug, planKey: "growth", interval: "month", requestId: crypto.randomUUID() };
    const started = await runOrgAction(startPlanCheckoutDef, w.admin, input, db);
    if (!started.ok) throw new Error(started.error);
    // A second tab (another request) for the same plan continues the same row and session.
    const tab = await runOrgAction(startPlanCheckoutDef, w.admin, { ...input, requestId: crypto.randomUUID() }, db);
    expect(tab).toMatchObject({ ok: true, data: started.data });

    const res = await payOnPage(started.data.url, "pm_card_visa");
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toContain(`/orgs/${w.org.slug}/billing/plan?checkout=complete&session_id=cs_`);
    await drainDeliveries();

    const live = await db.select().from(subscriptions).where(and(eq(subscriptions.orgId, w.org.id), notInArray(subscriptions.status, [...ENDED_SUBSCRIPTION_STATUSES])));
    expect(live).toHaveLength(1);
    // Growth has metered overage: the session sold its metered price too, as a second item.
    expect(live[0]).toMatchObject({ id: started.data.subscriptionId, status: "active", planKey: "growth", interval: "month", stripeMeteredItemId: expect.stringMatching(/^si_/) });
    const atStripe = await stripe().subscriptions.list({ customer: live[0]!.stripeCustomerId, status: "all" });
    expect(atStripe.data).toHaveLength(1);
    expect(atStripe.data[0]!.id).toBe(live[0]!.stripeSubscriptionId);

    const grants = async () => db.select().from(creditEntries).where(and(eq(creditEntries.orgId, w.org.id), eq(creditEntries.kind, "subscription_grant")));
    expect(await grants()).toHaveLength(1);
    expect((await grants())[0]!.amount).toBe(growth.creditsPerMonth);

    const [completed] = await eventsOf("checkout.session.completed");
    await resendEvent(completed!.id);
    await drainDeliveries();
    await processStripeEvent(db, { ...completed!, id: `${completed!.id}_copy` });
    for (const e of await eventsOf("invoice.paid")) await processStripeEvent(db, { ...e, id: `${e.id}_copy` });
    expect(await grants()).toHaveLength(1);
    const s = await snapshot(db, w.org.id);
    expect(s.balance).toBe(growth.creditsPerMonth);
    expect(s.ledgerSum).toBe(s.balance);

    // The organisation has its plan now: another start is refused.
    const more = await runOrgAction(startPlanCheckoutDef, w.admin, { ...input, planKey: "scale", requestId: crypto.randomUUID() }, db);
    expect(more).toMatchObject({ ok: false, code: "conflict" });
  });

  it("a plan whose Checkout is open is not also started on the page (two tabs, or a direct call): refused, nothing created at Stripe; the session still pays once", async () => {
    const w = await world();
    const input = { orgSlug: w.org.slug, planKey: "growth", interval: "month" };
    const hosted = await runOrgAction(startPlanCheckoutDef, w.admin, { ...input, requestId: crypto.randomUUID() }, db);
    if (!hosted.ok) throw new Error(hosted.error);
    const onPage = await runOrgAction(startSubscriptionDef, w.admin, { ...input, requestId: crypto.randomUUID() }, db);
    expect(onPage).toMatchObject({ ok: false, code: "conflict" });
    const [row] = await db.select().from(subscriptions).where(eq(subscriptions.id, hosted.data.subscriptionId));
    expect(row).toMatchObject({ status: "creating", stripeSubscriptionId: null });
    expect((await stripe().subscriptions.list({ customer: row!.stripeCustomerId, status: "all" })).data).toHaveLength(0);

    expect((await payOnPage(hosted.data.url, "pm_card_visa")).status).toBe(303);
    await drainDeliveries();
    const atStripe = await stripe().subscriptions.list({ customer: row!.stripeCustomerId, status: "all" });
    expect(atStripe.data).toHaveLength(1);
    const [paid] = await db.select().from(subscriptions).where(eq(subscriptions.id, hosted.data.subscriptionId));
    expect(paid).toMatchObject({ status: "active", stripeSubscriptionId: atStripe.data[0]!.id });
    expect((await snapshot(db, w.org.id)).balance).toBe(planByKey("growth")!.creditsPerMonth);
  });

  it("a plan being started on the page is not also sent to Checkout: refused, nothing written", async () => {
    const w = await world();
    const input = { orgSlug: w.org.slug, planKey: "growth", interval: "month" };
    // The page's start between its reservation and Stripe's answer: a row "creating", not via Checkout.
    const customer = await stripe().customers.create({ name: w.org.name });
    await db.insert(subscriptions).values({ orgId: w.org.id, createdBy: w.admin.id, requestId: crypto.randomUUID(), stripeCustomerId: customer.id, planKey: "growth", interval: "month" });
    const hosted = await runOrgAction(startPlanCheckoutDef, w.admin, { ...input, requestId: crypto.randomUUID() }, db);
    expect(hosted).toMatchObject({ ok: false, code: "conflict" });
    // No second row, and the page's row as it was (refused before any call to Stripe).
    expect(await db.select({ via: subscriptions.startedVia, status: subscriptions.status }).from(subscriptions).where(eq(subscriptions.orgId, w.org.id))).toEqual([{ via: "page", status: "creating" }]);
  });

  it("the trial once per organisation: a Starter started again after its trial ended is paid at once and grants the period", async () => {
    const w = await world();
    const start = async () => {
      const r = await runOrgAction(startPlanCheckoutDef, w.admin, { orgSlug: w.org.slug, planKey: "starter", interval: "month", requestId: crypto.randomUUID() }, db);
      if (!r.ok) throw new Error(r.error);
      expect((await payOnPage(r.data.url, "pm_card_visa")).status).toBe(303);
      await drainDeliveries();
      return (await db.select().from(subscriptions).where(eq(subscriptions.id, r.data.subscriptionId)))[0]!;
    };
    const trial = await start();
    expect(trial).toMatchObject({ status: "trialing", trialEnd: expect.any(Date) });
    await stripe().subscriptions.cancel(trial.stripeSubscriptionId!);
    await drainDeliveries();

    const again = await start();
    expect(again).toMatchObject({ status: "active", trialEnd: null });
    const atStripe = await stripe().subscriptions.retrieve(again.stripeSubscriptionId!);
    expect(atStripe.trial_end).toBeNull();
    const s = await snapshot(db, w.org.id);
    expect(s.entries.map((e) => [e.kind, e.amount])).toEqual([
      ["trial_grant", 200],
      ["subscription_grant", 1000],
    ]);
    expect(s.balance).toBe(1200);
  });

  it("choosing another plan expires the open session first; the old page can no longer be paid", async () => {
    const w = await world();
    const first = await runOrgAction(startPlanCheckoutDef, w.admin, { orgSlug: w.org.slug, planKey: "growth", interval: "month", requestId: crypto.randomUUID() }, db);
    if (!first.ok) throw new Error(first.error);
    const second = await runOrgAction(startPlanCheckoutDef, w.admin, { orgSlug: w.org.slug, planKey: "scale", interval: "month", requestId: crypto.randomUUID() }, db);
    if (!second.ok) throw new Error(second.error);
    expect(second.data.subscriptionId).not.toBe(first.data.subscriptionId);
    expect((await payOnPage(first.data.url, "pm_card_visa")).status).toBe(410);
    const [old] = await db.select().from(subscriptions).where(eq(subscriptions.id, first.data.subscriptionId));
    expect(old!.status).toBe("incomplete_expired");

    expect((await payOnPage(second.data.url, "pm_card_visa")).status).toBe(303);
    await drainDeliveries();
    const live = await db.select().from(subscriptions).where(and(eq(subscriptions.orgId, w.org.id), notInArray(subscriptions.status, [...ENDED_SUBSCRIPTION_STATUSES])));
    expect(live.map((r) => [r.id, r.status, r.planKey])).toEqual([[second.data.subscriptionId, "active", "scale"]]);
    const s = await snapshot(db, w.org.id);
    expect(s.entries).toHaveLength(1);
    expect(s.balance).toBe(planByKey("scale")!.creditsPerMonth);
  });
});
