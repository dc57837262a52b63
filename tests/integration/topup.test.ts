// A paid top-up end to end through the real SDK and the emulator: start → confirm with a test
// card → signed webhook → one ledger entry, balance, purchase and campaigns updated together.
import { afterAll, describe, expect, it } from "vitest";
import { eq } from "drizzle-orm";
import { couponRedemptions, purchases, stripeCustomers, stripeEvents } from "@/db/schema";
import { lockPurchaseForIntent, settleFromPaymentIntent } from "@/lib/topups/settle";
import { runOrgAction } from "@/lib/actions/org-action";
import { confirmTestCardDef, purchaseStatusDef, startTopUpDef } from "@/lib/topups/actions";
import { receiveStripeWebhook } from "@/lib/webhooks/receive";
import { stripe } from "@/lib/stripe/client";
import { runQueuedJobs } from "@/lib/jobs/workers";
import { useTestDatabase } from "../support/context";
import { drainDeliveries, resendEvent, startWebhookReceiver } from "../support/emulator";
import { makeCoupon, makeOrg, makePack, makePausedCampaign, makeUser, snapshot } from "../support/fixtures";

const { db } = useTestDatabase();
let receiver: Awaited<ReturnType<typeof startWebhookReceiver>> | undefined;

async function withReceiver() {
  await receiver?.close();
  receiver = await startWebhookReceiver((body, sig) => receiveStripeWebhook(db, body, sig));
}
afterAll(async () => receiver?.close());

async function setup() {
  const org = await makeOrg(db);
  const admin = await makeUser(db, { orgId: org.id, role: "admin" });
  const pack = await makePack(db, { credits: 500, amount: 4900 });
  const c1 = await makePausedCampaign(db, org.id, 120);
  const c2 = await makePausedCampaign(db, org.id, 80);
  return { org, admin, pack, campaigns: [c1, c2] };
}

describe("top-up", () => {
  it("a paid top-up grants credits once, redeems the coupon and resumes paused campaigns", async () => {
    await withReceiver();
    const { org, admin, pack } = await setup();
    const coupon = await makeCoupon(db, { percentOff: 20, firstPurchaseOnly: true });

    const started = await runOrgAction(startTopUpDef, admin, {
      orgSlug: org.slug,
      packId: pack.id,
      couponCode: coupon.code.toLowerCase(),
      requestId: crypto.randomUUID(),
    }, db);
    expect(started).toMatchObject({ ok: true, data: { amount: 3920, discount: 980, credits: 500, currency: "usd" } });
    if (!started.ok) throw new Error(started.error);

    const confirmed = await runOrgAction(confirmTestCardDef, admin, { orgSlug: org.slug, purchaseId: started.data.purchaseId, paymentMethod: "pm_card_visa" }, db);
    expect(confirmed).toEqual({ ok: true, data: { outcome: "processing" } });
    await drainDeliveries();

    const s = await snapshot(db, org.id);
    expect(s.balance).toBe(500);
    expect(s.entries).toHaveLength(1);
    expect(s.entries[0]).toMatchObject({ kind: "purchase", amount: 500, balanceAfter: 500, idempotencyKey: `purchase:${started.data.purchaseId}` });
    expect(s.purchases).toEqual([expect.objectContaining({ status: "succeeded", amount: 3920, discount: 980 })]);
    expect(s.campaigns.map((c) => c.status).sort()).toEqual(["active", "active"]);
    expect(s.campaigns.every((c) => c.pauseReason === null)).toBe(true);
    const [redemption] = await db.select().from(couponRedemptions).where(eq(couponRedemptions.purchaseId, started.data.purchaseId));
    expect(redemption?.status).toBe("redeemed");

    // The emulator delivered payment_intent.succeeded (and others), all recorded as processed.
    const events = await db.select().from(stripeEvents);
    expect(events.find((e) => e.type === "payment_intent.succeeded")?.processedAt).not.toBeNull();
    const pi = await stripe().paymentIntents.retrieve(s.purchases[0]!.stripePaymentIntentId!);
    expect(pi).toMatchObject({ status: "succeeded", amount: 3920, amount_received: 3920 });
  });

  it("the settling page finalises first; the late webhook then changes nothing", async () => {
    const { org, admin, pack } = await setup();
    const started = await runOrgAction(startTopUpDef, admin, { orgSlug: org.slug, packId: pack.id, requestId: crypto.randomUUID() }, db);
    if (!started.ok) throw new Error(started.error);
    // No endpoint is registered yet: the webhook cannot arrive before the page checks.
    const pi = await stripe().paymentIntents.confirm(
      (await snapshot(db, org.id)).purchases[0]!.stripePaymentIntentId!,
      { payment_method: "pm_card_visa" },
    );
    expect(pi.status).toBe("succeeded");

    const status = await runOrgAction(purchaseStatusDef, admin, { orgSlug: org.slug, purchaseId: started.data.purchaseId }, db);
    expect(status).toMatchObject({ ok: true, data: { status: "succeeded", balance: 500, activeCampaigns: 2, pausedForCredits: 0 } });

    // Now the webhook arrives, late.
    await withReceiver();
    const [event] = (await stripe().events.list({ type: "payment_intent.succeeded", limit: 5 })).data;
    expect(event).toBeDefined();
    await resendEvent(event!.id);
    await drainDeliveries();
    const s = await snapshot(db, org.id);
    expect(s.entries).toHaveLength(1);
    expect(s.balance).toBe(500);
    const [row] = await db.select().from(stripeEvents).where(eq(stripeEvents.id, event!.id));
    expect(row?.processedAt).not.toBeNull();
  });

  it("settlement returns the purchase exactly as the database holds it (hot-path rows mapped like drizzle's)", async () => {
    const { org, admin, pack } = await setup();
    const started = await runOrgAction(startTopUpDef, admin, { orgSlug: org.slug, packId: pack.id, requestId: crypto.randomUUID() }, db);
    if (!started.ok) throw new Error(started.error);
    const piId = (await snapshot(db, org.id)).purchases[0]!.stripePaymentIntentId!;
    const pi = await stripe().paymentIntents.confirm(piId, { payment_method: "pm_card_visa" });
    const locked = await db.transaction((tx) => lockPurchaseForIntent(tx, pi));
    const [before] = await db.select().from(purchases).where(eq(purchases.id, started.data.purchaseId));
    expect(locked).toEqual({ purchase: before, packName: pack.name });
    const settled = await db.transaction((tx) => settleFromPaymentIntent(tx, pi));
    const [after] = await db.select().from(purchases).where(eq(purchases.id, started.data.purchaseId));
    expect(settled!.purchase).toEqual(after);
    expect(after!.finalizedAt).toBeInstanceOf(Date);
    expect(settled!.resumedCampaignIds.sort()).toEqual((await snapshot(db, org.id)).campaigns.map((c) => c.id).sort());
  });

  it("a declined card fails the purchase with the reason and changes no balance", async () => {
    await withReceiver();
    const { org, admin, pack } = await setup();
    const coupon = await makeCoupon(db, { percentOff: 10, maxRedemptions: 1 });
    const started = await runOrgAction(startTopUpDef, admin, { orgSlug: org.slug, packId: pack.id, couponCode: coupon.code, requestId: crypto.randomUUID() }, db);
    if (!started.ok) throw new Error(started.error);
    const confirmed = await runOrgAction(confirmTestCardDef, admin, {
      orgSlug: org.slug,
      purchaseId: started.data.purchaseId,
      paymentMethod: "pm_card_visa_chargeDeclinedInsufficientFunds",
    }, db);
    expect(confirmed).toMatchObject({ ok: true, data: { outcome: "declined", message: expect.stringMatching(/insufficient funds/i) } });
    await drainDeliveries();
    const s = await snapshot(db, org.id);
    expect(s.balance).toBe(0);
    expect(s.entries).toHaveLength(0);
    expect(s.purchases[0]).toMatchObject({ status: "failed", failureCode: "insufficient_funds" });
    expect(s.campaigns.every((c) => c.status === "paused")).toBe(true);
    // The hold stays until Stripe has cancelled the declined intent (a job, queued with the decline).
    const hold = async () => (await db.select().from(couponRedemptions).where(eq(couponRedemptions.purchaseId, started.data.purchaseId)))[0]?.status;
    expect(await hold()).toBe("held");
    const runs = await runQueuedJobs(db);
    expect(runs).toMatchObject([{ name: "stripe.cancel-payment-intent", ok: true }]);
    expect((await stripe().paymentIntents.retrieve(s.purchases[0]!.stripePaymentIntentId!)).status).toBe("canceled");
    expect(await hold()).toBe("released");
    expect((await snapshot(db, org.id)).purchases[0]).toMatchObject({ status: "failed", failureCode: "insufficient_funds" });
    // The released hold frees the only redemption for the next checkout.
    const again = await runOrgAction(startTopUpDef, admin, { orgSlug: org.slug, packId: pack.id, couponCode: coupon.code, requestId: crypto.randomUUID() }, db);
    expect(again.ok).toBe(true);
  });

  it("a double submit with the same request id creates one purchase and one PaymentIntent", async () => {
    const { org, admin, pack } = await setup();
    const requestId = crypto.randomUUID();
    const results = await Promise.all(
      Array.from({ length: 5 }, () => runOrgAction(startTopUpDef, admin, { orgSlug: org.slug, packId: pack.id, requestId }, db)),
    );
    const ids = new Set(results.map((r) => (r.ok ? r.data.purchaseId : r.error)));
    const secrets = new Set(results.map((r) => (r.ok ? r.data.clientSecret : r.error)));
    expect(ids.size).toBe(1);
    expect(secrets.size).toBe(1);
    const s = await snapshot(db, org.id);
    expect(s.purchases).toHaveLength(1);
    const intents = await stripe().paymentIntents.list({ limit: 100 });
    expect(intents.data.filter((p) => p.metadata.purchase_id === s.purchases[0]!.id)).toHaveLength(1);
  });

  it("two first purchases racing create one Stripe customer", async () => {
    const { org, admin, pack } = await setup();
    const results = await Promise.all(
      Array.from({ length: 4 }, () => runOrgAction(startTopUpDef, admin, { orgSlug: org.slug, packId: pack.id, requestId: crypto.randomUUID() }, db)),
    );
    expect(results.every((r) => r.ok)).toBe(true);
    const rows = await db.select().from(stripeCustomers).where(eq(stripeCustomers.orgId, org.id));
    expect(rows).toHaveLength(1);
    const customers = await stripe().customers.list({ limit: 100 });
    expect(customers.data.filter((c) => c.metadata.org_id === org.id)).toHaveLength(1);
    const intents = await stripe().paymentIntents.list({ limit: 100 });
    expect(new Set(intents.data.map((p) => p.customer))).toEqual(new Set([rows[0]!.stripeCustomerId]));
  });

  it("refuses a pack that does not exist, and persists nothing", async () => {
    const { org, admin } = await setup();
    const r = await runOrgAction(startTopUpDef, admin, { orgSlug: org.slug, packId: crypto.randomUUID(), requestId: crypto.randomUUID() }, db);
    expect(r).toMatchObject({ ok: false, code: "not_found" });
    const bad = await runOrgAction(startTopUpDef, admin, { orgSlug: org.slug, packId: "nope", requestId: "x" }, db);
    expect(bad).toMatchObject({ ok: false, code: "invalid_input" });
    expect((await snapshot(db, org.id)).purchases).toHaveLength(0);
  });
});
