// The webhook route's guarantees, with real events from the emulator signed like Stripe's:
// duplicates (sequential and concurrent) count once, bad signatures write nothing, a failure
// mid-handler leaves nothing half-written and the retry succeeds, other livemode is ignored.
import { describe, expect, it } from "vitest";
import { eq, sql } from "drizzle-orm";
import Stripe from "stripe";
import { couponRedemptions, stripeEvents } from "@/db/schema";
import { runOrgAction } from "@/lib/actions/org-action";
import { startTopUpDef } from "@/lib/topups/actions";
import { receiveStripeWebhook } from "@/lib/webhooks/receive";
import { stripe } from "@/lib/stripe/client";
import { runQueuedJobs } from "@/lib/jobs/workers";
import { useTestDatabase } from "../support/context";
import { drainDeliveries, setChaos, startWebhookReceiver } from "../support/emulator";
import { makeCoupon, makeOrg, makePack, makePausedCampaign, makeUser, snapshot } from "../support/fixtures";

const { db } = useTestDatabase();
const secret = () => process.env.STRIPE_WEBHOOK_SECRET!.split(",")[0]!;

/** A paid purchase whose payment_intent.succeeded event has not been delivered to us. */
async function paidPurchaseEvent() {
  const org = await makeOrg(db);
  const admin = await makeUser(db, { orgId: org.id, role: "admin" });
  const pack = await makePack(db, { credits: 300, amount: 2900 });
  await makePausedCampaign(db, org.id, 100);
  const started = await runOrgAction(startTopUpDef, admin, { orgSlug: org.slug, packId: pack.id, requestId: crypto.randomUUID() }, db);
  if (!started.ok) throw new Error(started.error);
  const piId = (await snapshot(db, org.id)).purchases[0]!.stripePaymentIntentId!;
  await stripe().paymentIntents.confirm(piId, { payment_method: "pm_card_visa" });
  const events = await stripe().events.list({ type: "payment_intent.succeeded", limit: 10 });
  const event = events.data.find((e) => (e.data.object as Stripe.PaymentIntent).id === piId)!;
  const payload = JSON.stringify(event, null, 2);
  return { org, event, payload, purchaseId: started.data.purchaseId };
}

const sign = (payload: string, opts: { secret?: string; timestamp?: number } = {}) =>
  stripe().webhooks.generateTestHeaderString({ payload, secret: opts.secret ?? secret(), timestamp: opts.timestamp });

const deliver = (payload: string, header: string | null) => receiveStripeWebhook(db, payload, header);

describe("webhook", () => {
  it("processes a paid top-up once; the same event again is a duplicate with no effect", async () => {
    const { org, event, payload } = await paidPurchaseEvent();
    const first = await deliver(payload, sign(payload));
    expect(first).toMatchObject({ status: 200, body: { result: "processed" } });
    const second = await deliver(payload, sign(payload));
    expect(second).toMatchObject({ status: 200, body: { result: "duplicate" } });
    const s = await snapshot(db, org.id);
    expect(s.entries).toHaveLength(1);
    expect(s.balance).toBe(300);
    expect(s.purchases[0]!.status).toBe("succeeded");
    expect(s.campaigns[0]!.status).toBe("active");
    const [row] = await db.select().from(stripeEvents).where(eq(stripeEvents.id, event.id));
    expect(row).toMatchObject({ attempts: 1, lastError: null });
    expect(row!.processedAt).not.toBeNull();
  });

  it("a late duplicate locks and writes nothing: the purchase lock sent with the claim acts only for the claiming transaction", async () => {
    const { payload, purchaseId } = await paidPurchaseEvent();
    expect(await deliver(payload, sign(payload))).toMatchObject({ status: 200, body: { result: "processed" } });
    // xmax names the last transaction that locked or updated the row version.
    const rowState = async () =>
      (await db.execute<{ xmax: string; ctid: string }>(sql`select xmax::text, ctid::text from purchases where id = ${purchaseId}::uuid`))[0]!;
    const before = await rowState();
    const xidBefore = (await db.execute<{ x: string }>(sql`select pg_current_xact_id()::text as x`))[0]!.x;
    for (let i = 0; i < 3; i++) expect(await deliver(payload, sign(payload))).toMatchObject({ status: 200, body: { result: "duplicate" } });
    expect(await rowState()).toEqual(before);
    // No transaction id was handed out to the duplicates (a lock or a write would take one).
    const xidAfter = (await db.execute<{ x: string }>(sql`select pg_current_xact_id()::text as x`))[0]!.x;
    expect(BigInt(xidAfter) - BigInt(xidBefore)).toBe(1n);
  });

  it("20 concurrent deliveries of one event give one ledger entry", async () => {
    const { org, payload } = await paidPurchaseEvent();
    const results = await Promise.all(Array.from({ length: 20 }, () => deliver(payload, sign(payload))));
    expect(results.every((r) => r.status === 200)).toBe(true);
    expect(results.filter((r) => r.body.result === "processed")).toHaveLength(1);
    expect(results.filter((r) => r.body.result === "duplicate")).toHaveLength(19);
    const s = await snapshot(db, org.id);
    expect(s.entries).toHaveLength(1);
    expect(s.balance).toBe(300);
  });

  it("the emulator's duplicated, reordered deliveries still count once", async () => {
    await setChaos({ duplicate: 4, reorder: true });
    const receiver = await startWebhookReceiver((b, s) => receiveStripeWebhook(db, b, s));
    try {
      const { org } = await paidPurchaseEvent();
      await drainDeliveries();
      const s = await snapshot(db, org.id);
      expect(s.entries).toHaveLength(1);
      expect(s.balance).toBe(300);
    } finally {
      await receiver.close();
    }
  });

  it.each([
    ["a forged signature", (p: string) => sign(p).replace(/v1=([0-9a-f])/, (_m, c: string) => `v1=${c === "0" ? "1" : "0"}`)],
    ["a wrong secret", (p: string) => sign(p, { secret: "whsec_not_ours" })],
    ["a stale timestamp", (p: string) => sign(p, { timestamp: Math.floor(Date.now() / 1000) - 301 })],
    ["no signature", () => null],
  ])("%s → 400 and nothing written", async (_name, header) => {
    const { org, payload } = await paidPurchaseEvent();
    const r = await deliver(payload, header(payload));
    expect(r.status).toBe(400);
    const [count] = await db.select({ n: sql<number>`count(*)::int` }).from(stripeEvents);
    expect(count!.n).toBe(0);
    const s = await snapshot(db, org.id);
    expect(s.entries).toHaveLength(0);
    expect(s.purchases[0]!.status).toBe("pending");
  });

  it("a tampered body with a once-valid signature → 400", async () => {
    const { org, payload } = await paidPurchaseEvent();
    const header = sign(payload);
    const r = await deliver(payload.replace('"amount_received": 2900', '"amount_received": 9900'), header);
    expect(r.status).toBe(400);
    expect((await snapshot(db, org.id)).entries).toHaveLength(0);
  });

  it("accepts a signature made with any of the rotating secrets", async () => {
    const prev = process.env.STRIPE_WEBHOOK_SECRET;
    const { org, payload } = await paidPurchaseEvent();
    // serverEnv() is cached, so rotation is exercised through verifyWebhook's secrets argument.
    const { verifyWebhook } = await import("@/lib/stripe/webhook-events");
    const header = sign(payload, { secret: "whsec_new_secret" });
    expect(() => verifyWebhook(payload, header, [prev!, "whsec_new_secret"])).not.toThrow();
    expect(() => verifyWebhook(payload, header, [prev!])).toThrow();
    expect((await snapshot(db, org.id)).entries).toHaveLength(0);
  });

  it("a handler failing mid-way → 500, nothing half-written, failure recorded; the retry succeeds", async () => {
    const { org, event, payload, purchaseId } = await paidPurchaseEvent();
    // A real database failure after the purchase update and the ledger insert: resuming the
    // paused campaign hits a trigger that raises.
    await db.execute(sql`create or replace function fail_campaign_update() returns trigger language plpgsql as $$
      begin raise exception 'injected failure while resuming campaigns'; end $$`);
    await db.execute(sql`create trigger fail_campaign_update before update on campaigns for each row execute function fail_campaign_update()`);
    try {
      const r = await deliver(payload, sign(payload));
      expect(r.status).toBe(500);
      const s = await snapshot(db, org.id);
      expect(s.entries).toHaveLength(0);
      expect(s.balance).toBe(0);
      expect(s.purchases[0]).toMatchObject({ id: purchaseId, status: "pending" });
      expect(s.campaigns[0]!.status).toBe("paused");
      const [row] = await db.select().from(stripeEvents).where(eq(stripeEvents.id, event.id));
      expect(row).toMatchObject({ attempts: 1, processedAt: null });
      expect(row!.lastError).toMatch(/injected failure/);
    } finally {
      await db.execute(sql`drop trigger fail_campaign_update on campaigns`);
    }
    const retry = await deliver(payload, sign(payload));
    expect(retry).toMatchObject({ status: 200, body: { result: "processed" } });
    const s = await snapshot(db, org.id);
    expect(s.entries).toHaveLength(1);
    expect(s.balance).toBe(300);
    expect(s.campaigns[0]!.status).toBe("active");
    const [row] = await db.select().from(stripeEvents).where(eq(stripeEvents.id, event.id));
    expect(row).toMatchObject({ attempts: 2 });
    expect(row!.processedAt).not.toBeNull();
  });

  it("the emulator retries a failed delivery and the retry succeeds", async () => {
    let failuresLeft = 1;
    const receiver = await startWebhookReceiver(async (b, s) => {
      if (failuresLeft > 0 && b.includes('"payment_intent.succeeded"')) {
        failuresLeft--;
        return { status: 503, body: { error: "temporarily down" } };
      }
      return receiveStripeWebhook(db, b, s);
    });
    try {
      const { org } = await paidPurchaseEvent();
      await drainDeliveries();
      expect(failuresLeft).toBe(0);
      const s = await snapshot(db, org.id);
      expect(s.entries).toHaveLength(1);
      expect(s.purchases[0]!.status).toBe("succeeded");
    } finally {
      await receiver.close();
    }
  });

  it("a payment_failed webhook fails the purchase; a job cancels the intent, then the hold is freed; it cannot be paid later", async () => {
    const receiver = await startWebhookReceiver((b, s) => receiveStripeWebhook(db, b, s));
    try {
      const org = await makeOrg(db);
      const admin = await makeUser(db, { orgId: org.id, role: "admin" });
      const pack = await makePack(db, { credits: 300, amount: 2900 });
      const coupon = await makeCoupon(db, { percentOff: 10, maxRedemptions: 1 });
      const started = await runOrgAction(startTopUpDef, admin, { orgSlug: org.slug, packId: pack.id, couponCode: coupon.code, requestId: crypto.randomUUID() }, db);
      if (!started.ok) throw new Error(started.error);
      const piId = (await snapshot(db, org.id)).purchases[0]!.stripePaymentIntentId!;
      // Declined in the browser (Elements): our server only learns of it from the webhook.
      await expect(stripe().paymentIntents.confirm(piId, { payment_method: "pm_card_visa_chargeDeclined" })).rejects.toBeInstanceOf(Stripe.errors.StripeCardError);
      await drainDeliveries();
      const s = await snapshot(db, org.id);
      expect(s.purchases[0]).toMatchObject({ status: "failed", failureCode: "generic_decline" });
      expect(s.entries).toHaveLength(0);
      const hold = async () => (await db.select().from(couponRedemptions).where(eq(couponRedemptions.purchaseId, started.data.purchaseId)))[0]!.status;
      // Held until Stripe confirms the cancellation, which a job (queued with the decline) asks for.
      expect(await hold()).toBe("held");
      expect(await runQueuedJobs(db)).toMatchObject([{ name: "stripe.cancel-payment-intent", ok: true }]);
      await drainDeliveries();
      expect(await hold()).toBe("released");
      expect((await stripe().paymentIntents.retrieve(piId)).status).toBe("canceled");
      await expect(stripe().paymentIntents.confirm(piId, { payment_method: "pm_card_visa" })).rejects.toMatchObject({ code: "payment_intent_unexpected_state" });
    } finally {
      await receiver.close();
    }
  });

  it("ignores events whose livemode does not match (200, nothing written)", async () => {
    const { org, event } = await paidPurchaseEvent();
    const live = JSON.stringify({ ...event, livemode: true }, null, 2);
    const r = await deliver(live, sign(live));
    expect(r).toMatchObject({ status: 200, body: { ignored: "livemode mismatch" } });
    const [count] = await db.select({ n: sql<number>`count(*)::int` }).from(stripeEvents);
    expect(count!.n).toBe(0);
    expect((await snapshot(db, org.id)).entries).toHaveLength(0);
  });

  it("answers 200 to an unknown event type and changes nothing", async () => {
    const { org, event } = await paidPurchaseEvent();
    const other = JSON.stringify({ ...event, id: "evt_unknown_type_test", type: "customer.created" }, null, 2);
    const r = await deliver(other, sign(other));
    expect(r).toMatchObject({ status: 200, body: { result: "ignored" } });
    expect((await snapshot(db, org.id)).entries).toHaveLength(0);
  });
});
