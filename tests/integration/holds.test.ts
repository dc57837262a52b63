// Coupon holds under races, and the Stripe follow-ups that run as jobs (issue 5 §2–§4): a hold is
// released only once its PaymentIntent is cancelled at Stripe; linking an intent is guarded and
// the loser is cancelled; a fresh unlinked hold is never reclaimed; handlers re-fetch the intent;
// a late success after a release is granted and flagged; mismatches go to review; only the
// creator or an admin may confirm or cancel. Every test asserts on the database.
import { describe, expect, it } from "vitest";
import { and, eq, sql } from "drizzle-orm";
import Stripe from "stripe";
import { couponRedemptions, creditPacks, purchases } from "@/db/schema";
import { runOrgAction } from "@/lib/actions/org-action";
import { cancelTopUpDef, confirmTestCardDef, purchaseStatusDef, quoteTopUpDef, startTopUpDef } from "@/lib/topups/actions";
import { linkPaymentIntent } from "@/lib/topups/start";
import { receiveStripeWebhook } from "@/lib/webhooks/receive";
import { stripe } from "@/lib/stripe/client";
import { enqueue, schedules } from "@/lib/jobs/queue";
import { runQueuedJobs, startWorkers, stopWorkers } from "@/lib/jobs/workers";
import { couponOverRedemptions, purchasesNeedingReview } from "@/lib/staff/queries";
import { useTestDatabase } from "../support/context";
import { clearFaults, drainDeliveries, injectFault, startWebhookReceiver } from "../support/emulator";
import { makeCoupon, makeOrg, makePack, makeUser, snapshot } from "../support/fixtures";

const { db } = useTestDatabase();
const secret = () => process.env.STRIPE_WEBHOOK_SECRET!.split(",")[0]!;

async function adminOf() {
  const org = await makeOrg(db);
  const admin = await makeUser(db, { orgId: org.id, role: "admin" });
  return { org, admin };
}
async function start(user: Awaited<ReturnType<typeof makeUser>>, org: { slug: string }, packId: string, couponCode?: string, requestId = crypto.randomUUID()) {
  return runOrgAction(startTopUpDef, user, { orgSlug: org.slug, packId, couponCode, requestId }, db);
}
async function holdOf(purchaseId: string) {
  const [row] = await db.select().from(couponRedemptions).where(eq(couponRedemptions.purchaseId, purchaseId));
  return row;
}
async function purchase(id: string) {
  const [row] = await db.select().from(purchases).where(eq(purchases.id, id));
  return row!;
}
/** Delivers one emulator event to our webhook logic, signed like Stripe. */
async function deliverEvent(type: string, piId: string) {
  const events = await stripe().events.list({ type, limit: 100 });
  const event = events.data.find((e) => (e.data.object as Stripe.PaymentIntent).id === piId);
  if (!event) throw new Error(`no ${type} event for ${piId}`);
  const payload = JSON.stringify(event);
  return receiveStripeWebhook(db, payload, stripe().webhooks.generateTestHeaderString({ payload, secret: secret() }));
}
const ageHolds = (minutes: number) =>
  db.execute(sql`update coupon_redemptions set created_at = now() - make_interval(mins => ${minutes}) where status = 'held'`);

describe("coupon holds under races", () => {
  it("N concurrent checkouts of one organisation with a once-per-organisation code, all paid: exactly one discounted purchase", async () => {
    const receiver = await startWebhookReceiver((b, s) => receiveStripeWebhook(db, b, s));
    try {
      const pack = await makePack(db, { credits: 500, amount: 4900 });
      const coupon = await makeCoupon(db, { percentOff: 50, oncePerOrg: true });
      const { org, admin } = await adminOf();
      const starts = await Promise.all(Array.from({ length: 8 }, () => start(admin, org, pack.id, coupon.code)));
      const started = starts.flatMap((r) => (r.ok ? [r.data] : []));
      expect(started.length).toBeGreaterThanOrEqual(1);
      for (const r of starts) if (!r.ok) expect(r.code === "coupon_invalid" || r.code === "conflict").toBe(true);

      // Every browser that got a client secret pays it (as Elements would, straight to Stripe).
      for (const c of started) {
        const piId = c.clientSecret.split("_secret_")[0]!;
        await stripe().paymentIntents.confirm(piId, { payment_method: "pm_card_visa" }).catch(() => undefined);
      }
      await drainDeliveries();
      await runQueuedJobs(db);
      await drainDeliveries();

      const succeeded = await db.select().from(purchases).where(and(eq(purchases.orgId, org.id), eq(purchases.status, "succeeded")));
      const discounted = succeeded.filter((p) => p.couponId === coupon.id);
      const redemptions = await db.select().from(couponRedemptions).where(eq(couponRedemptions.couponId, coupon.id));
      const clean = redemptions.filter((r) => r.status === "redeemed" && r.overRedemption === null);
      expect(clean).toHaveLength(1);
      // Any other discounted success is visibly flagged (none is expected: the others were cancelled first).
      expect(discounted.length - 1).toBe(redemptions.filter((r) => r.overRedemption !== null).length);
      expect(discounted).toHaveLength(1);
      expect(redemptions.filter((r) => r.status === "held")).toHaveLength(0);
      const s = await snapshot(db, org.id);
      expect(s.balance).toBe(500 * succeeded.length);
    } finally {
      await receiver.close();
    }
  });

  it("N concurrent checkouts of one organisation with two different first-purchase-only codes, all paid: one discounted purchase, nothing flagged", async () => {
    const receiver = await startWebhookReceiver((b, s) => receiveStripeWebhook(db, b, s));
    try {
      const pack = await makePack(db, { credits: 500, amount: 4900 });
      const codes = [await makeCoupon(db, { percentOff: 50, firstPurchaseOnly: true }), await makeCoupon(db, { percentOff: 40, firstPurchaseOnly: true })];
      const { org, admin } = await adminOf();
      const starts = await Promise.all(Array.from({ length: 8 }, (_, i) => start(admin, org, pack.id, codes[i % 2]!.code)));
      const started = starts.flatMap((r) => (r.ok ? [r.data] : []));
      expect(started.length).toBeGreaterThanOrEqual(1);
      // A refused start leaves nothing; a later start with the same code may reclaim an earlier one's
      // linked hold (it walked away from that checkout), but never two live first-purchase holds.
      for (const r of starts) if (!r.ok) expect(r).toMatchObject({ code: "coupon_invalid", error: expect.stringMatching(/first purchase.*another checkout/) });
      expect((await snapshot(db, org.id)).purchases).toHaveLength(started.length);
      const held = await db.select().from(couponRedemptions).where(and(eq(couponRedemptions.orgId, org.id), eq(couponRedemptions.status, "held")));
      expect(held).toHaveLength(1);

      for (const c of started) await stripe().paymentIntents.confirm(c.clientSecret.split("_secret_")[0]!, { payment_method: "pm_card_visa" }).catch(() => undefined);
      await drainDeliveries();
      await runQueuedJobs(db);
      await drainDeliveries();
      const succeeded = await db.select().from(purchases).where(and(eq(purchases.orgId, org.id), eq(purchases.status, "succeeded")));
      expect(succeeded).toHaveLength(1);
      const redemptions = await db.select().from(couponRedemptions).where(eq(couponRedemptions.orgId, org.id));
      expect(redemptions.filter((r) => r.status === "redeemed")).toMatchObject([{ purchaseId: succeeded[0]!.id, overRedemption: null }]);
      expect((await snapshot(db, org.id)).balance).toBe(500);
    } finally {
      await receiver.close();
    }
  });

  it("a fresh hold whose checkout has not linked its PaymentIntent yet is never reclaimed", async () => {
    const pack = await makePack(db);
    const coupon = await makeCoupon(db, { percentOff: 10, oncePerOrg: true });
    const { org, admin } = await adminOf();
    // Checkout A is between "purchase + hold committed" and "PaymentIntent linked".
    const [a] = await db
      .insert(purchases)
      .values({ orgId: org.id, userId: admin.id, packId: pack.id, requestId: crypto.randomUUID(), credits: pack.credits, subtotal: 4900, discount: 490, amount: 4410, currency: "usd", couponId: coupon.id })
      .returning();
    await db.insert(couponRedemptions).values({ couponId: coupon.id, orgId: org.id, purchaseId: a!.id });

    const b = await start(admin, org, pack.id, coupon.code);
    expect(b).toMatchObject({ ok: false, code: "coupon_invalid", error: expect.stringMatching(/already used/) });
    expect(await runOrgAction(quoteTopUpDef, admin, { orgSlug: org.slug, packId: pack.id, couponCode: coupon.code }, db)).toMatchObject({ ok: true });
    expect((await holdOf(a!.id))!.status).toBe("held");
    expect((await purchase(a!.id)).status).toBe("pending");

    // A goes on and links its intent: still allowed, it holds the coupon.
    const resumed = await start(admin, org, pack.id, coupon.code, a!.requestId);
    expect(resumed).toMatchObject({ ok: true, data: { purchaseId: a!.id } });
    expect((await purchase(a!.id)).stripePaymentIntentId).toMatch(/^pi_/);
  });

  it("an intent that loses the link race is never handed out and is cancelled by a job", async () => {
    const pack = await makePack(db);
    const coupon = await makeCoupon(db, { percentOff: 10, maxRedemptions: 1 });
    const { org, admin } = await adminOf();
    const [a] = await db
      .insert(purchases)
      .values({ orgId: org.id, userId: admin.id, packId: pack.id, requestId: crypto.randomUUID(), credits: pack.credits, subtotal: 4900, discount: 490, amount: 4410, currency: "usd", couponId: coupon.id, createdAt: new Date(Date.now() - 3_600_000) })
      .returning();
    await db.insert(couponRedemptions).values({ couponId: coupon.id, orgId: org.id, purchaseId: a!.id });
    await ageHolds(60);
    // A's Stripe call is in flight…
    const pi = await stripe().paymentIntents.create({ amount: 4410, currency: "usd", metadata: { purchase_id: a!.id } }, { idempotencyKey: `purchase:${a!.id}` });
    // …while the sweep closes the abandoned, unlinked checkout and frees its hold.
    expect(await runQueuedJobs(db)).toEqual([]);
    await enqueue(db, "coupons.reclaim-abandoned-holds", {}, { singletonKey: "test" });
    expect(await runQueuedJobs(db)).toMatchObject([{ name: "coupons.reclaim-abandoned-holds", ok: true, output: { reclaimed: 1 } }]);
    expect((await purchase(a!.id)).status).toBe("canceled");
    expect((await holdOf(a!.id))!.status).toBe("released");

    // A's link now loses: no client secret, and the orphan intent is cancelled by a job.
    expect(await linkPaymentIntent(db, a!.id, pi.id)).toBe(false);
    expect((await purchase(a!.id)).stripePaymentIntentId).toBeNull();
    expect(await runQueuedJobs(db)).toMatchObject([{ name: "stripe.cancel-payment-intent", ok: true }]);
    expect((await stripe().paymentIntents.retrieve(pi.id)).status).toBe("canceled");
  });

  it("a late payment_failed after success changes nothing; a stale one alone still finds the success", async () => {
    const pack = await makePack(db, { credits: 300, amount: 2900 });
    const coupon = await makeCoupon(db, { percentOff: 10, maxRedemptions: 5 });
    const { org, admin } = await adminOf();
    const r = await start(admin, org, pack.id, coupon.code);
    if (!r.ok) throw new Error(r.error);
    const piId = (await purchase(r.data.purchaseId)).stripePaymentIntentId!;
    // In the browser: a declined card, then another card that succeeds (same client secret).
    await expect(stripe().paymentIntents.confirm(piId, { payment_method: "pm_card_visa_chargeDeclined" })).rejects.toBeInstanceOf(Stripe.errors.StripeCardError);
    await stripe().paymentIntents.confirm(piId, { payment_method: "pm_card_visa" });

    // Events arrive out of order: the stale failure first. The handler re-fetches: succeeded.
    expect(await deliverEvent("payment_intent.payment_failed", piId)).toMatchObject({ status: 200 });
    let s = await snapshot(db, org.id);
    expect(s.purchases[0]).toMatchObject({ status: "succeeded" });
    expect(s.balance).toBe(300);
    expect(await deliverEvent("payment_intent.succeeded", piId)).toMatchObject({ status: 200 });
    // And the failure again, late (a new delivery of the same event is a duplicate; resend as Stripe would).
    expect(await deliverEvent("payment_intent.payment_failed", piId)).toMatchObject({ status: 200 });
    s = await snapshot(db, org.id);
    expect(s.purchases[0]).toMatchObject({ status: "succeeded", failureCode: null });
    expect(s.entries).toHaveLength(1);
    expect((await holdOf(r.data.purchaseId))!.status).toBe("redeemed");
    expect(await runQueuedJobs(db)).toEqual([]); // nothing to cancel
  });

  it("a payment_failed while the intent is processing again does not fail the purchase", async () => {
    const pack = await makePack(db);
    const { org, admin } = await adminOf();
    const r = await start(admin, org, pack.id);
    if (!r.ok) throw new Error(r.error);
    const piId = (await purchase(r.data.purchaseId)).stripePaymentIntentId!;
    await expect(stripe().paymentIntents.confirm(piId, { payment_method: "pm_card_visa_chargeDeclined" })).rejects.toBeInstanceOf(Stripe.errors.StripeCardError);
    // The customer retries with a card needing 3-D Secure: the intent is no longer failed.
    await stripe().paymentIntents.confirm(piId, { payment_method: "pm_card_authenticationRequired" });
    expect(await deliverEvent("payment_intent.payment_failed", piId)).toMatchObject({ status: 200 });
    expect((await purchase(r.data.purchaseId)).status).toBe("pending");
  });

  it("a decline keeps the hold until Stripe confirms the cancel; a cancel that fails at Stripe is retried", async () => {
    const pack = await makePack(db);
    const coupon = await makeCoupon(db, { percentOff: 10, maxRedemptions: 1 });
    const { org, admin } = await adminOf();
    const r = await start(admin, org, pack.id, coupon.code);
    if (!r.ok) throw new Error(r.error);
    const piId = (await purchase(r.data.purchaseId)).stripePaymentIntentId!;
    await injectFault({ method: "POST", path: "^/v1/payment_intents/[^/]+/cancel$", status: 500 });

    const declined = await runOrgAction(confirmTestCardDef, admin, { orgSlug: org.slug, purchaseId: r.data.purchaseId, paymentMethod: "pm_card_visa_chargeDeclined" }, db);
    expect(declined).toMatchObject({ ok: true, data: { outcome: "declined" } });
    expect((await purchase(r.data.purchaseId)).status).toBe("failed");
    expect((await holdOf(r.data.purchaseId))!.status).toBe("held");

    // The job fails at Stripe: retried later, the hold stays, the coupon stays used.
    expect(await runQueuedJobs(db)).toMatchObject([{ name: "stripe.cancel-payment-intent", ok: false }]);
    expect(await runQueuedJobs(db)).toEqual([]); // waiting for its backoff
    await ageHolds(60);
    await enqueue(db, "coupons.reclaim-abandoned-holds", {}, { singletonKey: "test" });
    await runQueuedJobs(db, { names: ["coupons.reclaim-abandoned-holds"] }); // the sweep cannot cancel either
    expect((await holdOf(r.data.purchaseId))!.status).toBe("held");
    expect((await stripe().paymentIntents.retrieve(piId)).status).toBe("requires_payment_method");
    const other = await adminOf();
    expect(await start(other.admin, other.org, pack.id, coupon.code)).toMatchObject({ ok: false, code: "coupon_invalid" });

    // Stripe answers again: the retry cancels the intent and only then frees the hold.
    await clearFaults();
    expect(await runQueuedJobs(db, { includeDelayed: true })).toMatchObject([{ name: "stripe.cancel-payment-intent", ok: true }]);
    expect((await stripe().paymentIntents.retrieve(piId)).status).toBe("canceled");
    expect((await holdOf(r.data.purchaseId))!.status).toBe("released");
    expect(await purchase(r.data.purchaseId)).toMatchObject({ status: "failed", failureCode: "generic_decline" });
    expect(await start(other.admin, other.org, pack.id, coupon.code)).toMatchObject({ ok: true });
  });

  it("cancelling a checkout while Stripe fails changes nothing; the hold stays", async () => {
    const pack = await makePack(db);
    const coupon = await makeCoupon(db, { percentOff: 10, maxRedemptions: 1 });
    const { org, admin } = await adminOf();
    const r = await start(admin, org, pack.id, coupon.code);
    if (!r.ok) throw new Error(r.error);
    await injectFault({ method: "POST", path: "/cancel$", status: 503 });
    const cancelled = await runOrgAction(cancelTopUpDef, admin, { orgSlug: org.slug, purchaseId: r.data.purchaseId }, db);
    expect(cancelled.ok).toBe(false);
    expect((await purchase(r.data.purchaseId)).status).toBe("pending");
    expect((await holdOf(r.data.purchaseId))!.status).toBe("held");
    await clearFaults();
    expect(await runOrgAction(cancelTopUpDef, admin, { orgSlug: org.slug, purchaseId: r.data.purchaseId }, db)).toMatchObject({ ok: true, data: { status: "canceled" } });
    expect((await holdOf(r.data.purchaseId))!.status).toBe("released");
  });

  it("a re-submit that fails at Stripe does not close a checkout whose client secret was handed out", async () => {
    const pack = await makePack(db);
    const coupon = await makeCoupon(db, { percentOff: 10, maxRedemptions: 1 });
    const { org, admin } = await adminOf();
    const requestId = crypto.randomUUID();
    const first = await start(admin, org, pack.id, coupon.code, requestId);
    if (!first.ok) throw new Error(first.error);
    await injectFault({ method: "POST", path: "^/v1/payment_intents$", status: 500 });
    const again = await start(admin, org, pack.id, coupon.code, requestId);
    expect(again).toMatchObject({ ok: false, code: "payment_provider_unavailable" });
    expect(again.ok === false && again.error).not.toMatch(/Nothing was charged/);
    expect((await purchase(first.data.purchaseId)).status).toBe("pending");
    expect((await holdOf(first.data.purchaseId))!.status).toBe("held");
    await clearFaults();
    // The first client secret still pays.
    await stripe().paymentIntents.confirm(first.data.clientSecret.split("_secret_")[0]!, { payment_method: "pm_card_visa" });
    expect(await runOrgAction(purchaseStatusDef, admin, { orgSlug: org.slug, purchaseId: first.data.purchaseId }, db)).toMatchObject({ ok: true, data: { status: "succeeded" } });

    // A first submit that cannot reach Stripe closes its (unlinked) checkout and frees the hold.
    const other = await adminOf();
    const coupon2 = await makeCoupon(db, { percentOff: 10, maxRedemptions: 1 });
    await injectFault({ method: "POST", path: "^/v1/payment_intents$", status: 500 });
    const failed = await start(other.admin, other.org, pack.id, coupon2.code);
    expect(failed).toMatchObject({ ok: false, code: "payment_provider_unavailable", error: expect.stringMatching(/Nothing was charged/) });
    const [closed] = (await snapshot(db, other.org.id)).purchases;
    expect(closed).toMatchObject({ status: "canceled", stripePaymentIntentId: null });
    expect((await holdOf(closed!.id))!.status).toBe("released");
  });

  it("abandoned holds of other organisations are reclaimed by the scheduled job and by the price preview", async () => {
    const pack = await makePack(db);
    const coupon = await makeCoupon(db, { percentOff: 10, maxRedemptions: 1 });
    const a = await adminOf();
    const b = await adminOf();
    const r = await start(a.admin, a.org, pack.id, coupon.code);
    if (!r.ok) throw new Error(r.error);
    expect(await runOrgAction(quoteTopUpDef, b.admin, { orgSlug: b.org.slug, packId: pack.id, couponCode: coupon.code }, db)).toMatchObject({ ok: false, error: expect.stringMatching(/redemption limit/) });
    await ageHolds(31);
    // The preview reclaims it (cancelling the intent at Stripe first) and then quotes.
    expect(await runOrgAction(quoteTopUpDef, b.admin, { orgSlug: b.org.slug, packId: pack.id, couponCode: coupon.code }, db)).toMatchObject({ ok: true, data: { discount: 490 } });
    expect((await purchase(r.data.purchaseId)).status).toBe("canceled");
    expect((await stripe().paymentIntents.retrieve((await purchase(r.data.purchaseId)).stripePaymentIntentId!)).status).toBe("canceled");

    // The scheduled sweep does the same with no one asking.
    const r2 = await start(b.admin, b.org, pack.id, coupon.code);
    if (!r2.ok) throw new Error(r2.error);
    await ageHolds(31);
    await enqueue(db, "coupons.reclaim-abandoned-holds", {}, { singletonKey: "test" });
    expect(await runQueuedJobs(db)).toMatchObject([{ name: "coupons.reclaim-abandoned-holds", ok: true, output: { reclaimed: 1 } }]);
    expect((await holdOf(r2.data.purchaseId))!.status).toBe("released");
  });

  it("a success whose hold had been released is granted, and an over-redemption is recorded for staff", async () => {
    const pack = await makePack(db, { credits: 200, amount: 1900 });
    const coupon = await makeCoupon(db, { percentOff: 10, maxRedemptions: 1 });
    const a = await adminOf();
    const r = await start(a.admin, a.org, pack.id, coupon.code);
    if (!r.ok) throw new Error(r.error);
    const piId = (await purchase(r.data.purchaseId)).stripePaymentIntentId!;
    // Legacy or out-of-band release (e.g. a hold freed by the old code), then another org redeems.
    await db.update(couponRedemptions).set({ status: "released" }).where(eq(couponRedemptions.purchaseId, r.data.purchaseId));
    const b = await adminOf();
    const rb = await start(b.admin, b.org, pack.id, coupon.code);
    if (!rb.ok) throw new Error(rb.error);
    await runOrgAction(confirmTestCardDef, b.admin, { orgSlug: b.org.slug, purchaseId: rb.data.purchaseId, paymentMethod: "pm_card_visa" }, db);
    await runOrgAction(purchaseStatusDef, b.admin, { orgSlug: b.org.slug, purchaseId: rb.data.purchaseId }, db);

    await stripe().paymentIntents.confirm(piId, { payment_method: "pm_card_visa" });
    expect(await deliverEvent("payment_intent.succeeded", piId)).toMatchObject({ status: 200 });
    const s = await snapshot(db, a.org.id);
    expect(s.purchases[0]).toMatchObject({ status: "succeeded" });
    expect(s.balance).toBe(200); // money in ⇒ credits in
    expect(await holdOf(r.data.purchaseId)).toMatchObject({ status: "redeemed", overRedemption: "max_redemptions" });
    expect(await couponOverRedemptions(db)).toMatchObject([{ code: coupon.code, purchaseId: r.data.purchaseId, reason: "max_redemptions" }]);
  });

  it("a late success of an organisation that has since used its once-per-organisation code is flagged once_per_org", async () => {
    const pack = await makePack(db, { credits: 200, amount: 1900 });
    const coupon = await makeCoupon(db, { percentOff: 10, oncePerOrg: true });
    const { org, admin } = await adminOf();
    const first = await start(admin, org, pack.id, coupon.code);
    if (!first.ok) throw new Error(first.error);
    const piId = (await purchase(first.data.purchaseId)).stripePaymentIntentId!;
    await db.update(couponRedemptions).set({ status: "released" }).where(eq(couponRedemptions.purchaseId, first.data.purchaseId));
    await db.update(purchases).set({ status: "canceled", finalizedAt: new Date() }).where(eq(purchases.id, first.data.purchaseId));
    const second = await start(admin, org, pack.id, coupon.code);
    if (!second.ok) throw new Error(second.error);
    await runOrgAction(confirmTestCardDef, admin, { orgSlug: org.slug, purchaseId: second.data.purchaseId, paymentMethod: "pm_card_visa" }, db);
    await runOrgAction(purchaseStatusDef, admin, { orgSlug: org.slug, purchaseId: second.data.purchaseId }, db);
    await stripe().paymentIntents.confirm(piId, { payment_method: "pm_card_visa" });
    expect(await deliverEvent("payment_intent.succeeded", piId)).toMatchObject({ status: 200 });
    expect((await snapshot(db, org.id)).balance).toBe(400);
    expect(await holdOf(first.data.purchaseId)).toMatchObject({ status: "redeemed", overRedemption: "once_per_org" });
    expect(await holdOf(second.data.purchaseId)).toMatchObject({ status: "redeemed", overRedemption: null });
  });

  it("a zero-decimal currency: a JPY pack is charged and granted in yen", async () => {
    const [pack] = await db
      .insert(creditPacks)
      .values({ slug: `yen-${crypto.randomUUID().slice(0, 8)}`, name: "Yen pack", credits: 100, amount: 1500, currency: "jpy" })
      .returning();
    const { org, admin } = await adminOf();
    const r = await start(admin, org, pack!.id);
    if (!r.ok) throw new Error(r.error);
    const pi = await stripe().paymentIntents.retrieve((await purchase(r.data.purchaseId)).stripePaymentIntentId!);
    expect(pi).toMatchObject({ amount: 1500, currency: "jpy" });
    await runOrgAction(confirmTestCardDef, admin, { orgSlug: org.slug, purchaseId: r.data.purchaseId, paymentMethod: "pm_card_visa" }, db);
    expect(await runOrgAction(purchaseStatusDef, admin, { orgSlug: org.slug, purchaseId: r.data.purchaseId }, db)).toMatchObject({ ok: true, data: { status: "succeeded", currency: "jpy", amount: 1500 } });
    // Upper-case codes cannot be stored.
    await expect(db.insert(creditPacks).values({ slug: "upper-usd", name: "x", credits: 1, amount: 100, currency: "USD" })).rejects.toThrow();
  });

  it("an amount mismatch marks the purchase needs_review, grants nothing and answers 200", async () => {
    const pack = await makePack(db, { credits: 300, amount: 2900 });
    const { org, admin } = await adminOf();
    const r = await start(admin, org, pack.id);
    if (!r.ok) throw new Error(r.error);
    const piId = (await purchase(r.data.purchaseId)).stripePaymentIntentId!;
    // Someone changed the intent's amount at Stripe before it was paid.
    await stripe().paymentIntents.update(piId, { amount: 100 });
    await stripe().paymentIntents.confirm(piId, { payment_method: "pm_card_visa" });
    const res = await deliverEvent("payment_intent.succeeded", piId);
    expect(res).toMatchObject({ status: 200, body: { result: "processed" } });
    const s = await snapshot(db, org.id);
    expect(s.entries).toHaveLength(0);
    expect(s.purchases[0]).toMatchObject({ status: "needs_review", reviewReason: expect.stringMatching(/received 100 usd.*2900 usd/) });
    expect(await purchasesNeedingReview(db)).toMatchObject([{ id: r.data.purchaseId, paymentIntentId: piId }]);
    // The settling page neither grants nor says "nothing was charged".
    expect(await runOrgAction(purchaseStatusDef, admin, { orgSlug: org.slug, purchaseId: r.data.purchaseId }, db)).toMatchObject({ ok: true, data: { status: "needs_review" } });
    expect((await snapshot(db, org.id)).entries).toHaveLength(0);
  });

  it("only the purchase's creator or an organisation admin may confirm or cancel it", async () => {
    const pack = await makePack(db);
    const { org, admin } = await adminOf();
    const alice = await makeUser(db, { orgId: org.id, role: "member" });
    const bob = await makeUser(db, { orgId: org.id, role: "member" });
    const r = await runOrgAction(startTopUpDef, alice, { orgSlug: org.slug, packId: pack.id, requestId: crypto.randomUUID() }, db);
    if (!r.ok) throw new Error(r.error);
    const piId = (await purchase(r.data.purchaseId)).stripePaymentIntentId!;
    expect(await runOrgAction(confirmTestCardDef, bob, { orgSlug: org.slug, purchaseId: r.data.purchaseId, paymentMethod: "pm_card_visa" }, db)).toMatchObject({ ok: false, code: "forbidden" });
    expect(await runOrgAction(cancelTopUpDef, bob, { orgSlug: org.slug, purchaseId: r.data.purchaseId }, db)).toMatchObject({ ok: false, code: "forbidden" });
    expect((await stripe().paymentIntents.retrieve(piId)).status).toBe("requires_payment_method");
    expect((await purchase(r.data.purchaseId)).status).toBe("pending");
    // The creator may; so may an admin.
    expect(await runOrgAction(cancelTopUpDef, admin, { orgSlug: org.slug, purchaseId: r.data.purchaseId }, db)).toMatchObject({ ok: true, data: { status: "canceled" } });
    const r2 = await runOrgAction(startTopUpDef, alice, { orgSlug: org.slug, packId: pack.id, requestId: crypto.randomUUID() }, db);
    if (!r2.ok) throw new Error(r2.error);
    expect(await runOrgAction(confirmTestCardDef, alice, { orgSlug: org.slug, purchaseId: r2.data.purchaseId, paymentMethod: "pm_card_visa" }, db)).toMatchObject({ ok: true });
  });
});

describe("settling page", () => {
  it("when Stripe cannot be reached it reports an unverified pending purchase, not an error or a guess", async () => {
    const pack = await makePack(db);
    const { org, admin } = await adminOf();
    const r = await start(admin, org, pack.id);
    if (!r.ok) throw new Error(r.error);
    await stripe().paymentIntents.confirm((await purchase(r.data.purchaseId)).stripePaymentIntentId!, { payment_method: "pm_card_visa" });
    await injectFault({ method: "GET", path: "^/v1/payment_intents/", status: 500 });
    expect(await runOrgAction(purchaseStatusDef, admin, { orgSlug: org.slug, purchaseId: r.data.purchaseId }, db)).toMatchObject({ ok: true, data: { status: "pending", verified: false } });
    expect((await snapshot(db, org.id)).entries).toHaveLength(0);
    await clearFaults();
    expect(await runOrgAction(purchaseStatusDef, admin, { orgSlug: org.slug, purchaseId: r.data.purchaseId }, db)).toMatchObject({ ok: true, data: { status: "succeeded", verified: true } });
    expect((await snapshot(db, org.id)).balance).toBe(pack.credits);
  });
});

describe("job workers", () => {
  it("two runners over the same queue run each job once (SKIP LOCKED), and a duplicate enqueue is one job", async () => {
    const pack = await makePack(db);
    const { org, admin } = await adminOf();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const r = await start(admin, org, pack.id);
      if (!r.ok) throw new Error(r.error);
      const piId = (await purchase(r.data.purchaseId)).stripePaymentIntentId!;
      ids.push(r.data.purchaseId);
      await db.transaction(async (tx) => {
        await enqueue(tx, "stripe.cancel-payment-intent", { paymentIntentId: piId, purchaseId: r.data.purchaseId, reason: "test" }, { singletonKey: piId });
        // Same follow-up again (e.g. webhook and page): stately queue + key = one pending job.
        expect(await enqueue(tx, "stripe.cancel-payment-intent", { paymentIntentId: piId, purchaseId: r.data.purchaseId, reason: "test" }, { singletonKey: piId })).toBeNull();
      });
    }
    const [a, b] = await Promise.all([runQueuedJobs(db), runQueuedJobs(db)]);
    const runs = [...a!, ...b!];
    expect(runs).toHaveLength(5);
    expect(new Set(runs.map((j) => j.id)).size).toBe(5);
    expect(runs.every((j) => j.ok)).toBe(true);
    for (const id of ids) expect((await purchase(id)).status).toBe("canceled");
  });


  it("in-process workers pick up a job enqueued in a transaction, none from a rolled-back one; the sweep is scheduled", async () => {
    const pack = await makePack(db);
    const coupon = await makeCoupon(db, { percentOff: 10, maxRedemptions: 1 });
    const { org, admin } = await adminOf();
    const r = await start(admin, org, pack.id, coupon.code);
    if (!r.ok) throw new Error(r.error);
    const piId = (await purchase(r.data.purchaseId)).stripePaymentIntentId!;
    // A rolled-back transaction leaves no job behind.
    await db
      .transaction(async (tx) => {
        await enqueue(tx, "stripe.cancel-payment-intent", { paymentIntentId: piId, purchaseId: r.data.purchaseId, reason: "test" }, { singletonKey: piId });
        throw new Error("roll back");
      })
      .catch(() => undefined);
    const [jobs] = await db.execute<{ n: number }>(sql`select count(*)::int as n from pgboss.job`);
    expect(jobs!.n).toBe(0);

    await startWorkers(db, { pollingIntervalSeconds: 0.5 });
    try {
      // Every sweep (abandoned holds among them) is scheduled (cron) once for all instances.
      const scheduled = [...(await db.execute<{ name: string; cron: string }>(sql`select name, cron from pgboss.schedule`))].sort((a, b) => a.name.localeCompare(b.name));
      expect(scheduled).toContainEqual({ name: "coupons.reclaim-abandoned-holds", cron: "*/5 * * * *" });
      expect(scheduled).toEqual(
        Object.entries(schedules())
          .map(([name, cron]) => ({ name, cron }))
          .sort((a, b) => a.name.localeCompare(b.name)),
      );
      await runOrgAction(confirmTestCardDef, admin, { orgSlug: org.slug, purchaseId: r.data.purchaseId, paymentMethod: "pm_card_visa_chargeDeclined" }, db);
      for (let i = 0; i < 100 && (await holdOf(r.data.purchaseId))!.status === "held"; i++) await new Promise((ok) => setTimeout(ok, 100));
    } finally {
      await stopWorkers();
    }
    expect((await holdOf(r.data.purchaseId))!.status).toBe("released");
    expect((await stripe().paymentIntents.retrieve(piId)).status).toBe("canceled");
  });
});
