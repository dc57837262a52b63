// Refunds and disputes in the emulator, through the real SDK: partial and full refunds update the
// charge and emit refund.created + charge.refunded; Stripe's refusals (too much, already refunded,
// disputed, not succeeded); an idempotency key replays one refund; disputes are opened and closed
// through the control surface and emit charge.dispute.created / .closed.
import { afterEach, describe, expect, it } from "vitest";
import Stripe from "stripe";
import { emulatorWithSdk } from "./test-helpers";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function paid() {
  const h = await emulatorWithSdk();
  cleanups.push(() => h.emu.close());
  const pi = await h.stripe.paymentIntents.create({ amount: 2900, currency: "usd", payment_method: "pm_card_visa", confirm: true, metadata: { purchase_id: "p1" } });
  const control = (path: string, body: unknown) =>
    fetch(`${h.emu.url}/_emulator${path}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) }).then(async (r) => ({ status: r.status, body: (await r.json()) as Record<string, unknown> }));
  return { ...h, pi, chargeId: String(pi.latest_charge), control };
}

describe("refunds", () => {
  it("partial then the rest; the charge tracks it; events; refusals", async () => {
    const { stripe, pi, chargeId } = await paid();
    const r1 = await stripe.refunds.create({ payment_intent: pi.id, amount: 1000 }, { idempotencyKey: "refund:a" });
    expect(r1).toMatchObject({ object: "refund", amount: 1000, charge: chargeId, payment_intent: pi.id, status: "succeeded", currency: "usd" });
    expect(r1.id).toMatch(/^re_/);
    const again = await stripe.refunds.create({ payment_intent: pi.id, amount: 1000 }, { idempotencyKey: "refund:a" });
    expect(again.id).toBe(r1.id);
    expect((await stripe.charges.retrieve(chargeId))).toMatchObject({ amount_refunded: 1000, refunded: false });

    const tooMuch = await stripe.refunds.create({ charge: chargeId, amount: 1901 }).catch((e) => e);
    expect(tooMuch).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    expect(tooMuch).toMatchObject({ code: "amount_too_large" });
    const rest = await stripe.refunds.create({ charge: chargeId });
    expect(rest.amount).toBe(1900);
    expect((await stripe.charges.retrieve(chargeId))).toMatchObject({ amount_refunded: 2900, refunded: true });
    expect(await stripe.refunds.create({ charge: chargeId }).catch((e) => e)).toMatchObject({ code: "charge_already_refunded" });
    expect((await stripe.refunds.list({ payment_intent: pi.id })).data.map((r) => r.amount)).toEqual([1900, 1000]);

    const events = await stripe.events.list({ type: "charge.refunded" });
    expect(events.data.map((e) => (e.data.object as Stripe.Charge).amount_refunded)).toEqual([2900, 1000]);
    expect((await stripe.events.list({ type: "refund.created" })).data).toHaveLength(2);
    const pending = await stripe.paymentIntents.create({ amount: 500, currency: "usd" });
    expect(await stripe.refunds.create({ payment_intent: pending.id }).catch((e) => e)).toMatchObject({ code: "charge_not_refundable" });
  });
});

describe("disputes", () => {
  it("opened and closed through the control surface, with events; a disputed charge cannot be refunded", async () => {
    const { stripe, chargeId, pi, control } = await paid();
    const opened = await control(`/charges/${chargeId}/dispute`, { amount: 1000, reason: "fraudulent" });
    expect(opened.status).toBe(200);
    const dp = opened.body as unknown as Stripe.Dispute;
    expect(dp).toMatchObject({ object: "dispute", amount: 1000, charge: chargeId, payment_intent: pi.id, status: "needs_response" });
    expect((await stripe.charges.retrieve(chargeId)).disputed).toBe(true);
    expect(await stripe.refunds.create({ charge: chargeId }).catch((e) => e)).toMatchObject({ code: "charge_disputed" });
    expect((await control(`/charges/${chargeId}/dispute`, {})).status).toBe(400);
    expect((await control(`/disputes/${dp.id}/close`, { status: "maybe" })).status).toBe(400);
    expect((await control(`/disputes/${dp.id}/close`, { status: "won" })).status).toBe(200);
    expect((await stripe.disputes.retrieve(dp.id)).status).toBe("won");
    expect((await control(`/disputes/${dp.id}/close`, { status: "lost" })).status).toBe(400);
    expect((await stripe.events.list({ type: "charge.dispute.created" })).data).toHaveLength(1);
    const closed = await stripe.events.list({ type: "charge.dispute.closed" });
    expect((closed.data[0]!.data.object as Stripe.Dispute).status).toBe("won");
  });
});
