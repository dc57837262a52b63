// Billing Meters and meter events on the emulator through the real SDK: creating and listing
// meters, Stripe's validation of meter events, the identifier's uniqueness (a resend under the
// same idempotency key is replayed, under another key refused), event summaries, metered prices,
// and usage billed in arrears on the renewal invoice (including usage reported during the hour
// before the draft is finalized).
import { afterEach, describe, expect, it } from "vitest";
import type Stripe from "stripe";
import { emulatorWithSdk } from "./test-helpers";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

const JAN_1 = Date.UTC(2026, 0, 1) / 1000;
const FEB_1 = Date.UTC(2026, 1, 1) / 1000;
const DAY = 86_400;

async function setup() {
  const h = await emulatorWithSdk();
  cleanups.push(() => h.emu.close());
  const { stripe } = h;
  const meter = await stripe.billing.meters.create({
    display_name: "Overage credits",
    event_name: "overage_credits",
    default_aggregation: { formula: "sum" },
    customer_mapping: { type: "by_id", event_payload_key: "stripe_customer_id" },
    value_settings: { event_payload_key: "value" },
  });
  const product = await stripe.products.create({ name: "Growth" });
  const plan = await stripe.prices.create({ product: product.id, currency: "usd", unit_amount: 9900, recurring: { interval: "month" } });
  const overage = await stripe.prices.create({ product: product.id, currency: "usd", unit_amount: 3, recurring: { interval: "month", usage_type: "metered", meter: meter.id } });
  const clock = await stripe.testHelpers.testClocks.create({ frozen_time: JAN_1 });
  const customer = await stripe.customers.create({ name: "Acme", test_clock: clock.id });
  const advance = async (to: number) => {
    await stripe.testHelpers.testClocks.advance(clock.id, { frozen_time: to });
    for (let i = 0; i < 500; i++) {
      if ((await stripe.testHelpers.testClocks.retrieve(clock.id)).status === "ready") return;
      await new Promise((r) => setTimeout(r, 10));
    }
    throw new Error("test clock never became ready");
  };
  const event = (identifier: string, value: number, timestamp: number, opts: Stripe.RequestOptions = {}) =>
    stripe.billing.meterEvents.create({ event_name: "overage_credits", identifier, timestamp, payload: { stripe_customer_id: customer.id, value: String(value) } }, opts);
  return { ...h, meter, plan, overage, clock, customer, advance, event };
}

describe("billing meters", () => {
  it("creates, retrieves and lists meters; an active event name is unique", async () => {
    const { stripe, meter } = await setup();
    expect(meter).toMatchObject({ object: "billing.meter", status: "active", event_name: "overage_credits", default_aggregation: { formula: "sum" }, customer_mapping: { event_payload_key: "stripe_customer_id", type: "by_id" } });
    expect((await stripe.billing.meters.retrieve(meter.id)).id).toBe(meter.id);
    expect((await stripe.billing.meters.list({ status: "active" })).data.map((m) => m.id)).toEqual([meter.id]);
    await expect(stripe.billing.meters.create({ display_name: "Again", event_name: "overage_credits", default_aggregation: { formula: "sum" } })).rejects.toMatchObject({ type: "StripeInvalidRequestError", param: "event_name" });
    await expect(stripe.billing.meters.create({ display_name: "No formula", event_name: "x" } as Stripe.Billing.MeterCreateParams)).rejects.toMatchObject({ code: "parameter_missing" });
    await expect(stripe.billing.meters.retrieve("mtr_nope")).rejects.toMatchObject({ statusCode: 404, code: "resource_missing" });
  });

  it("a metered price names an existing meter", async () => {
    const { stripe, overage } = await setup();
    expect(overage.recurring).toMatchObject({ usage_type: "metered", meter: expect.stringMatching(/^mtr_/) });
    const product = await stripe.products.create({ name: "P" });
    await expect(stripe.prices.create({ product: product.id, currency: "usd", unit_amount: 1, recurring: { interval: "month", usage_type: "metered" } })).rejects.toMatchObject({ code: "parameter_missing", param: "recurring[meter]" });
    await expect(stripe.prices.create({ product: product.id, currency: "usd", unit_amount: 1, recurring: { interval: "month", usage_type: "metered", meter: "mtr_nope" } })).rejects.toMatchObject({ param: "recurring[meter]" });
  });
});

describe("meter events", () => {
  it("validates like Stripe: meter, customer, whole value, timestamp within 35 days and 5 minutes ahead", async () => {
    const { stripe, customer, event } = await setup();
    const ok = await event("e-1", 7, JAN_1 - 10);
    expect(ok).toMatchObject({ object: "billing.meter_event", identifier: "e-1", timestamp: JAN_1 - 10, payload: { value: "7" } });
    await expect(stripe.billing.meterEvents.create({ event_name: "nope", payload: { stripe_customer_id: customer.id, value: "1" } })).rejects.toMatchObject({ statusCode: 400, param: "event_name" });
    await expect(stripe.billing.meterEvents.create({ event_name: "overage_credits", payload: { value: "1" } })).rejects.toMatchObject({ code: "parameter_missing" });
    await expect(stripe.billing.meterEvents.create({ event_name: "overage_credits", payload: { stripe_customer_id: "cus_nope", value: "1" } })).rejects.toMatchObject({ statusCode: 400, code: "resource_missing" });
    await expect(event("e-2", -1, JAN_1)).rejects.toMatchObject({ param: "payload[value]" });
    await expect(event("e-3", 1, JAN_1 - 36 * DAY)).rejects.toMatchObject({ param: "timestamp", message: expect.stringContaining("35") });
    await expect(event("e-4", 1, JAN_1 + 301)).rejects.toMatchObject({ param: "timestamp" });
    expect(await event("e-5", 1, JAN_1 + 299)).toMatchObject({ identifier: "e-5" });
  });

  it("counts an identifier once: the same key replays, another key is refused as existing", async () => {
    const { stripe, meter, customer, event } = await setup();
    await event("usage-batch:1", 5, JAN_1, { idempotencyKey: "usage-batch:1" });
    const replay = await event("usage-batch:1", 5, JAN_1, { idempotencyKey: "usage-batch:1" });
    expect(replay.lastResponse.headers["idempotent-replayed"]).toBe("true");
    await expect(event("usage-batch:1", 5, JAN_1)).rejects.toMatchObject({ type: "StripeInvalidRequestError", statusCode: 400, message: "An event already exists with identifier usage-batch:1." });
    await event("usage-batch:2", 3, JAN_1 + 60);
    const summaries = await stripe.billing.meters.listEventSummaries(meter.id, { customer: customer.id, start_time: JAN_1 - DAY, end_time: JAN_1 + DAY });
    expect(summaries.data).toEqual([expect.objectContaining({ object: "billing.meter_event_summary", aggregated_value: 8, meter: meter.id })]);
  });
});

describe("usage on the renewal invoice", () => {
  it("bills the period's meter sum × unit price in arrears, including usage reported in the hour before finalization", async () => {
    const { stripe, plan, overage, customer, advance, event } = await setup();
    const pm = (await stripe.paymentMethods.attach("pm_card_visa", { customer: customer.id })).id;
    const sub = await stripe.subscriptions.create({ customer: customer.id, items: [{ price: plan.id }, { price: overage.id }], default_payment_method: pm, payment_behavior: "allow_incomplete" });
    expect(sub.status).toBe("active");
    // Nothing for the metered item in advance.
    const first = await stripe.invoices.retrieve(sub.latest_invoice as string);
    expect(first.amount_due).toBe(9900);

    await advance(JAN_1 + 5 * DAY);
    await event("a", 400, JAN_1 + 5 * DAY);
    await advance(JAN_1 + 20 * DAY);
    await event("b", 100, JAN_1 + 20 * DAY);
    await advance(FEB_1 + 60); // renewal: a draft, finalized an hour later
    await event("outside", 999, FEB_1 + 10); // the next period: not on this invoice
    await event("late", 50, FEB_1 - 1); // reported during the grace hour, for the ended period
    await advance(FEB_1 + 2 * 3600);

    const invoices = (await stripe.invoices.list({ customer: customer.id })).data;
    const renewal = invoices.find((i) => i.billing_reason === "subscription_cycle")!;
    expect(renewal.status).toBe("paid");
    const usageLine = renewal.lines.data.find((l) => l.pricing?.price_details?.price === overage.id)!;
    expect(usageLine).toMatchObject({ quantity: 550, amount: 550 * 3, period: { start: JAN_1, end: FEB_1 } });
    expect(renewal.amount_due).toBe(9900 + 550 * 3);
    expect(renewal.amount_paid).toBe(9900 + 550 * 3);
  });

  it("a metered item repriced mid-period bills its usage so far at the old price and the rest at the new one, each event once", async () => {
    const { stripe, plan, overage, customer, advance, event } = await setup();
    const cheaper = await stripe.prices.create({ product: plan.product as string, currency: "usd", unit_amount: 2, recurring: { interval: "month", usage_type: "metered", meter: overage.recurring!.meter! } });
    const pm = (await stripe.paymentMethods.attach("pm_card_visa", { customer: customer.id })).id;
    const sub = await stripe.subscriptions.create({ customer: customer.id, items: [{ price: plan.id }, { price: overage.id }], default_payment_method: pm, payment_behavior: "allow_incomplete" });
    const metered = sub.items.data.find((i) => i.price.id === overage.id)!;
    await advance(JAN_1 + 5 * DAY);
    await event("before", 100, JAN_1 + 5 * DAY);
    await advance(JAN_1 + 10 * DAY);
    await stripe.subscriptions.update(sub.id, { items: [{ id: metered.id, price: cheaper.id }], proration_behavior: "none" });
    await advance(JAN_1 + 15 * DAY);
    await event("after", 50, JAN_1 + 15 * DAY);
    await advance(FEB_1 + 2 * 3600);
    const renewal = (await stripe.invoices.list({ customer: customer.id })).data.find((i) => i.billing_reason === "subscription_cycle")!;
    const usage = renewal.lines.data.filter((l) => l.pricing?.price_details?.price !== plan.id).map((l) => [l.pricing?.price_details?.price, l.quantity, l.amount]);
    expect(usage.sort()).toEqual([[overage.id, 100, 300], [cheaper.id, 50, 100]].sort());
    expect(renewal.amount_due).toBe(9900 + 300 + 100);
  });
});
