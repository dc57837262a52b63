// Subscriptions on the emulator through the real stripe SDK: catalogue, first payment through the
// invoice's confirmation_secret, trials, renewals and failing renewals on test clocks (events in
// Stripe's order, stamped with the clock's time), prorated upgrades, invoice previews,
// cancellation at period end, the billing portal, and renewals on the emulator's own clock.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type Stripe from "stripe";
import { emulatorWithSdk, receiver } from "./test-helpers";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

const DAY = 86_400;
const JAN_1 = Date.UTC(2026, 0, 1) / 1000;
const FEB_1 = Date.UTC(2026, 1, 1) / 1000;
const MAR_1 = Date.UTC(2026, 2, 1) / 1000;
const BILLING_TYPES = /^(customer\.subscription\.|invoice\.|test_helpers)/;

async function setup(opts: Parameters<typeof emulatorWithSdk>[0] = {}) {
  const h = await emulatorWithSdk(opts);
  cleanups.push(() => h.emu.close());
  const { stripe } = h;
  const growth = await stripe.products.create({ name: "Growth" });
  const scale = await stripe.products.create({ name: "Scale" });
  const monthly = await stripe.prices.create({ product: growth.id, currency: "usd", unit_amount: 3000, recurring: { interval: "month" }, lookup_key: "growth_monthly", transfer_lookup_key: true });
  const annual = await stripe.prices.create({ product: growth.id, currency: "usd", unit_amount: 30000, recurring: { interval: "year" }, lookup_key: "growth_annual", transfer_lookup_key: true });
  const scaleMonthly = await stripe.prices.create({ product: scale.id, currency: "usd", unit_amount: 9000, recurring: { interval: "month" }, lookup_key: "scale_monthly", transfer_lookup_key: true });

  const clockCustomer = async (frozen = JAN_1) => {
    const clock = await stripe.testHelpers.testClocks.create({ frozen_time: frozen, name: "test" });
    const customer = await stripe.customers.create({ name: "Acme", email: "billing@acme.test", test_clock: clock.id });
    return { clock, customer };
  };

  const advance = async (clockId: string, to: number) => {
    const started = await stripe.testHelpers.testClocks.advance(clockId, { frozen_time: to });
    expect(started.status).toBe("advancing");
    for (let i = 0; i < 500; i++) {
      const c = await stripe.testHelpers.testClocks.retrieve(clockId);
      if (c.status === "ready") {
        expect(c.frozen_time).toBe(to);
        return c;
      }
      await new Promise((r) => setTimeout(r, 10));
    }
    throw new Error("test clock never became ready");
  };

  /** Every event so far, oldest first. */
  const allEvents = async () => {
    const out: Stripe.Event[] = [];
    for await (const e of stripe.events.list({ limit: 100 })) out.push(e);
    return out.reverse();
  };
  const billingEvents = async (after?: string) => {
    const all = await allEvents();
    const from = after ? all.findIndex((e) => e.id === after) + 1 : 0;
    return all.slice(from).filter((e) => BILLING_TYPES.test(e.type) && !e.type.startsWith("test_helpers"));
  };
  const lastEventId = async () => (await stripe.events.list({ limit: 1 })).data[0]?.id;

  /** A test card attached to the customer as a new PaymentMethod (pm_…). */
  const attach = async (customer: string, card: string) => (await stripe.paymentMethods.attach(card, { customer })).id;
  const last4 = async (pm: string | Stripe.PaymentMethod | null) => (await stripe.paymentMethods.retrieve(typeof pm === "string" ? pm : pm!.id)).card!.last4;

  /** Subscribes (default_incomplete) and pays the first invoice with the test card, as Stripe.js would. */
  const subscribeActive = async (customer: string, price = monthly.id, card = "pm_card_visa") => {
    const sub = await stripe.subscriptions.create({
      customer,
      items: [{ price }],
      payment_behavior: "default_incomplete",
      payment_settings: { save_default_payment_method: "on_subscription" },
      expand: ["latest_invoice.confirmation_secret"],
    });
    const secret = (sub.latest_invoice as Stripe.Invoice).confirmation_secret!.client_secret;
    await stripe.paymentIntents.confirm(secret.split("_secret_")[0]!, { payment_method: card });
    return stripe.subscriptions.retrieve(sub.id);
  };

  return { ...h, monthly, annual, scaleMonthly, growth, scale, clockCustomer, advance, allEvents, billingEvents, lastEventId, subscribeActive, attach, last4 };
}

describe("catalogue", () => {
  it("lists prices by lookup key and moves a lookup key only with transfer_lookup_key", async () => {
    const { stripe, monthly, annual, growth } = await setup();
    const found = await stripe.prices.list({ lookup_keys: ["growth_monthly", "growth_annual"], expand: ["data.product"] });
    expect(found.data.map((p) => p.id).sort()).toEqual([monthly.id, annual.id].sort());
    expect((found.data[0]!.product as Stripe.Product).name).toBe("Growth");
    expect(monthly).toMatchObject({ type: "recurring", recurring: { interval: "month", interval_count: 1 }, unit_amount: 3000, lookup_key: "growth_monthly" });
    await expect(stripe.prices.create({ product: growth.id, currency: "usd", unit_amount: 3500, recurring: { interval: "month" }, lookup_key: "growth_monthly" })).rejects.toMatchObject({ param: "lookup_key" });
    const next = await stripe.prices.create({ product: growth.id, currency: "usd", unit_amount: 3500, recurring: { interval: "month" }, lookup_key: "growth_monthly", transfer_lookup_key: true });
    expect((await stripe.prices.list({ lookup_keys: ["growth_monthly"] })).data.map((p) => p.id)).toEqual([next.id]);
    expect((await stripe.prices.retrieve(monthly.id)).lookup_key).toBeNull();
  });
});

describe("parameters and expand", () => {
  it("refuses unknown parameters and unexpandable paths before doing anything; expands what Stripe expands", async () => {
    const { stripe, monthly, clockCustomer, subscribeActive } = await setup();
    const { customer } = await clockCustomer();
    await expect(stripe.subscriptions.create({ customer: customer.id, items: [{ price: monthly.id }], bogus: 1 } as Stripe.SubscriptionCreateParams)).rejects.toMatchObject({ code: "parameter_unknown", param: "bogus" });
    await expect(stripe.subscriptions.create({ customer: customer.id, items: [{ price: monthly.id }], expand: ["latest_invoice.nope"] })).rejects.toMatchObject({ message: expect.stringMatching(/cannot be expanded/) });
    expect((await stripe.subscriptions.list({ customer: customer.id, status: "all" })).data).toHaveLength(0);
    const sub = await subscribeActive(customer.id);
    const full = await stripe.subscriptions.retrieve(sub.id, { expand: ["customer", "default_payment_method", "latest_invoice.payments"] });
    expect(full.customer).toMatchObject({ id: customer.id, object: "customer" });
    expect(full.default_payment_method).toMatchObject({ object: "payment_method", card: { last4: "4242" } });
    const invoice = full.latest_invoice as Stripe.Invoice;
    expect(invoice.payments!.data[0]).toMatchObject({ object: "invoice_payment", status: "paid" });
    expect(invoice.confirmation_secret).toBeUndefined();
    const listed = await stripe.invoices.list({ customer: customer.id, expand: ["data.confirmation_secret"] });
    expect(listed.data[0]!.confirmation_secret).toMatchObject({ type: "payment_intent" });
    const prices = await stripe.prices.list({ lookup_keys: ["growth_monthly"], expand: ["data.product"] });
    expect(prices.data[0]!.product).toMatchObject({ object: "product", name: "Growth" });
  });
});

describe("subscribe with default_incomplete", () => {
  it("is incomplete with an open first invoice; paying its confirmation_secret's PaymentIntent makes it active, events in order", async () => {
    const { stripe, monthly, clockCustomer, billingEvents, last4 } = await setup();
    const { customer } = await clockCustomer();
    const sub = await stripe.subscriptions.create({
      customer: customer.id,
      items: [{ price: monthly.id }],
      payment_behavior: "default_incomplete",
      payment_settings: { save_default_payment_method: "on_subscription" },
      expand: ["latest_invoice.confirmation_secret"],
    });
    expect(sub).toMatchObject({ status: "incomplete", customer: customer.id, start_date: JAN_1, test_clock: customer.test_clock });
    expect(sub.items.data[0]).toMatchObject({ current_period_start: JAN_1, current_period_end: FEB_1, price: { id: monthly.id } });
    const invoice = sub.latest_invoice as Stripe.Invoice;
    expect(invoice).toMatchObject({ status: "open", amount_due: 3000, billing_reason: "subscription_create", parent: { subscription_details: { subscription: sub.id } } });
    expect(invoice.confirmation_secret).toMatchObject({ type: "payment_intent", client_secret: expect.stringMatching(/^pi_\w+_secret_\w+$/) });
    // Without expand, the includable fields are absent, as with Stripe.
    const plain = await stripe.invoices.retrieve(invoice.id);
    expect(plain.confirmation_secret).toBeUndefined();
    expect(plain.payments).toBeUndefined();

    const piId = invoice.confirmation_secret!.client_secret.split("_secret_")[0]!;
    expect(await stripe.paymentIntents.retrieve(piId)).toMatchObject({ amount: 3000, customer: customer.id, status: "requires_payment_method" });
    await stripe.paymentIntents.confirm(piId, { payment_method: "pm_card_visa" });

    const active = await stripe.subscriptions.retrieve(sub.id);
    // The test card became a new PaymentMethod, attached to the customer and saved on the subscription.
    expect(active).toMatchObject({ status: "active", default_payment_method: expect.stringMatching(/^pm_(?!card)/) });
    expect(await last4(active.default_payment_method)).toBe("4242");
    expect((await stripe.paymentMethods.retrieve(active.default_payment_method as string)).customer).toBe(customer.id);
    const paid = await stripe.invoices.retrieve(invoice.id, { expand: ["payments"] });
    expect(paid).toMatchObject({ status: "paid", amount_paid: 3000, amount_remaining: 0, status_transitions: { paid_at: JAN_1 } });
    expect(paid.payments!.data[0]).toMatchObject({ status: "paid", amount_paid: 3000, payment: { type: "payment_intent", payment_intent: piId } });

    const events = await billingEvents();
    expect(events.map((e) => e.type)).toEqual([
      "customer.subscription.created",
      "invoice.created",
      "invoice.finalized",
      "invoice.paid",
      "invoice.payment_succeeded",
      "customer.subscription.updated",
    ]);
    const updated = events.at(-1)!;
    expect((updated.data.object as Stripe.Subscription).status).toBe("active");
    expect(updated.data.previous_attributes).toMatchObject({ status: "incomplete", default_payment_method: null });
    expect(events.every((e) => e.api_version === updated.api_version)).toBe(true);
    expect(events.every((e) => e.created === JAN_1)).toBe(true);
    expect((events[1]!.data.object as Stripe.Invoice).status).toBe("draft");
  });

  it("a declined first payment leaves it incomplete (invoice.payment_failed); unpaid after 23 hours it expires and the invoice is voided", async () => {
    const { stripe, monthly, clockCustomer, advance, billingEvents } = await setup();
    const { clock, customer } = await clockCustomer();
    const sub = await stripe.subscriptions.create({ customer: customer.id, items: [{ price: monthly.id }], payment_behavior: "default_incomplete", expand: ["latest_invoice.confirmation_secret"] });
    const secret = (sub.latest_invoice as Stripe.Invoice).confirmation_secret!.client_secret;
    const err = await stripe.paymentIntents.confirm(secret.split("_secret_")[0]!, { payment_method: "pm_card_visa_chargeDeclined" }).catch((e) => e);
    expect(err.type).toBe("StripeCardError");
    expect(await stripe.subscriptions.retrieve(sub.id)).toMatchObject({ status: "incomplete" });
    expect(await stripe.invoices.retrieve((sub.latest_invoice as Stripe.Invoice).id)).toMatchObject({ status: "open", attempt_count: 1, next_payment_attempt: null });
    expect((await billingEvents()).map((e) => e.type)).toContain("invoice.payment_failed");

    await advance(clock.id, JAN_1 + DAY);
    expect(await stripe.subscriptions.retrieve(sub.id)).toMatchObject({ status: "incomplete_expired", ended_at: JAN_1 + 23 * 3600 });
    expect((await stripe.invoices.retrieve((sub.latest_invoice as Stripe.Invoice).id)).status).toBe("void");
    expect((await stripe.subscriptions.list({ customer: customer.id })).data).toHaveLength(0);
    expect((await stripe.subscriptions.list({ customer: customer.id, status: "all" })).data).toHaveLength(1);
  });
});

describe("trials", () => {
  it("trialing with a $0 invoice; past the trial end the first real invoice is paid and the subscription active", async () => {
    const { stripe, monthly, clockCustomer, advance, billingEvents, lastEventId, attach } = await setup();
    const { clock, customer } = await clockCustomer();
    await expect(stripe.customers.update(customer.id, { invoice_settings: { default_payment_method: "pm_card_visa" } })).rejects.toMatchObject({ code: "resource_missing" });
    await stripe.customers.update(customer.id, { invoice_settings: { default_payment_method: await attach(customer.id, "pm_card_visa") } });
    const sub = await stripe.subscriptions.create({ customer: customer.id, items: [{ price: monthly.id }], trial_period_days: 14, payment_behavior: "default_incomplete" });
    const trialEnd = JAN_1 + 14 * DAY;
    expect(sub).toMatchObject({ status: "trialing", trial_start: JAN_1, trial_end: trialEnd, billing_cycle_anchor: trialEnd });
    expect(sub.items.data[0]).toMatchObject({ current_period_start: JAN_1, current_period_end: trialEnd });
    const trialInvoice = await stripe.invoices.retrieve(sub.latest_invoice as string);
    expect(trialInvoice).toMatchObject({ status: "paid", amount_due: 0, total: 0, billing_reason: "subscription_create" });
    expect((await billingEvents()).map((e) => e.type)).toEqual(["customer.subscription.created", "invoice.created", "invoice.finalized", "invoice.paid", "invoice.payment_succeeded"]);

    const mark = await lastEventId();
    await advance(clock.id, trialEnd + 2 * 3600);
    const active = await stripe.subscriptions.retrieve(sub.id);
    expect(active.status).toBe("active");
    expect(active.items.data[0]).toMatchObject({ current_period_start: trialEnd, current_period_end: trialEnd + 31 * DAY });
    const invoice = await stripe.invoices.retrieve(active.latest_invoice as string);
    expect(invoice).toMatchObject({ status: "paid", amount_paid: 3000, billing_reason: "subscription_cycle", period_end: trialEnd });
    const events = await billingEvents(mark);
    expect(events.map((e) => e.type)).toEqual([
      "invoice.upcoming",
      "customer.subscription.trial_will_end",
      "customer.subscription.updated",
      "invoice.created",
      "invoice.finalized",
      "invoice.paid",
      "invoice.payment_succeeded",
    ]);
    expect(events.map((e) => e.created)).toEqual([trialEnd - 7 * DAY, trialEnd - 3 * DAY, trialEnd, trialEnd, trialEnd + 3600, trialEnd + 3600, trialEnd + 3600]);
    expect((events[0]!.data.object as Stripe.Invoice).amount_due).toBe(3000);
    expect(events[2]!.data.previous_attributes).toMatchObject({ status: "trialing" });
  });
});

describe("trial without a payment method", () => {
  it("at the trial end the invoice cannot be charged: past_due, retried; a card added in the portal pays it", async () => {
    const { stripe, monthly, clockCustomer, advance } = await setup();
    const { clock, customer } = await clockCustomer();
    const sub = await stripe.subscriptions.create({ customer: customer.id, items: [{ price: monthly.id }], trial_period_days: 7 });
    await advance(clock.id, JAN_1 + 7 * DAY + 2 * 3600);
    const due = await stripe.subscriptions.retrieve(sub.id);
    expect(due.status).toBe("past_due");
    expect(await stripe.invoices.retrieve(due.latest_invoice as string)).toMatchObject({ status: "open", attempt_count: 1, next_payment_attempt: JAN_1 + 7 * DAY + 3600 + 3 * DAY });
    const session = await stripe.billingPortal.sessions.create({ customer: customer.id });
    await fetch(`${session.url}/card`, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: "payment_method=pm_card_visa", redirect: "manual" });
    expect((await stripe.subscriptions.retrieve(sub.id)).status).toBe("active");
    expect((await stripe.invoices.retrieve(due.latest_invoice as string)).status).toBe("paid");
  });
});

describe("renewals on a test clock", () => {
  it("advancing past the period end starts a new period with a new paid invoice, events in order and in time", async () => {
    const { stripe, clockCustomer, advance, billingEvents, lastEventId, subscribeActive } = await setup();
    const { clock, customer } = await clockCustomer();
    const sub = await subscribeActive(customer.id);
    const mark = await lastEventId();
    await advance(clock.id, FEB_1 + 2 * 3600);

    const renewed = await stripe.subscriptions.retrieve(sub.id);
    expect(renewed.status).toBe("active");
    expect(renewed.items.data[0]).toMatchObject({ current_period_start: FEB_1, current_period_end: MAR_1 });
    const invoices = await stripe.invoices.list({ subscription: sub.id });
    expect(invoices.data.map((i) => [i.billing_reason, i.status, i.amount_paid])).toEqual([
      ["subscription_cycle", "paid", 3000],
      ["subscription_create", "paid", 3000],
    ]);
    expect(invoices.data[0]!.lines.data[0]).toMatchObject({ amount: 3000, period: { start: FEB_1, end: MAR_1 } });

    const events = await billingEvents(mark);
    expect(events.map((e) => e.type)).toEqual([
      "invoice.upcoming",
      "customer.subscription.updated",
      "invoice.created",
      "invoice.finalized",
      "invoice.paid",
      "invoice.payment_succeeded",
    ]);
    expect(events.map((e) => e.created)).toEqual([FEB_1 - 7 * DAY, FEB_1, FEB_1, FEB_1 + 3600, FEB_1 + 3600, FEB_1 + 3600]);
    expect((events[0]!.data.object as Stripe.Invoice).amount_due).toBe(3000);
    const prev = events[1]!.data.previous_attributes as Partial<Stripe.Subscription>;
    expect(prev.items!.data[0]).toMatchObject({ current_period_start: JAN_1, current_period_end: FEB_1 });
    expect(events.every((e) => e.request?.id === null)).toBe(true);

    // Two more periods in one advance: each renewal happens, in order.
    await advance(clock.id, Date.UTC(2026, 3, 1, 2) / 1000);
    const cycles = (await stripe.invoices.list({ subscription: sub.id })).data.filter((i) => i.billing_reason === "subscription_cycle");
    expect(cycles.map((i) => i.period_end)).toEqual([Date.UTC(2026, 3, 1) / 1000, MAR_1, FEB_1]);
    expect(cycles.every((i) => i.status === "paid")).toBe(true);
  });
});

describe("failing renewals", () => {
  it("pm_card_chargeCustomerFail: past_due, retried 3, 5 and 7 days later, then canceled", async () => {
    const { stripe, clockCustomer, advance, billingEvents, lastEventId, subscribeActive, attach } = await setup();
    const { clock, customer } = await clockCustomer();
    const sub = await subscribeActive(customer.id);
    await expect(stripe.paymentMethods.attach("pm_card_visa_chargeDeclined", { customer: customer.id })).rejects.toMatchObject({ type: "StripeCardError" });
    await stripe.subscriptions.update(sub.id, { default_payment_method: await attach(customer.id, "pm_card_chargeCustomerFail") });
    const mark = await lastEventId();
    await advance(clock.id, FEB_1 + 2 * 3600);

    const pastDue = await stripe.subscriptions.retrieve(sub.id);
    expect(pastDue.status).toBe("past_due");
    const invoice = await stripe.invoices.retrieve(pastDue.latest_invoice as string);
    expect(invoice).toMatchObject({ status: "open", attempt_count: 1, attempted: true, next_payment_attempt: FEB_1 + 3600 + 3 * DAY });
    let events = await billingEvents(mark);
    expect(events.map((e) => e.type)).toEqual([
      "invoice.upcoming",
      "customer.subscription.updated",
      "invoice.created",
      "invoice.finalized",
      "invoice.payment_failed",
      "customer.subscription.updated",
    ]);
    expect(events.at(-1)!.data.previous_attributes).toEqual({ status: "active" });

    const mark2 = await lastEventId();
    await advance(clock.id, FEB_1 + 10 * DAY);
    const ended = await stripe.subscriptions.retrieve(sub.id);
    expect(ended).toMatchObject({ status: "canceled", cancellation_details: { reason: "payment_failed" } });
    expect(await stripe.invoices.retrieve(invoice.id)).toMatchObject({ status: "open", attempt_count: 4, next_payment_attempt: null });
    events = await billingEvents(mark2);
    expect(events.map((e) => e.type)).toEqual(["invoice.payment_failed", "invoice.payment_failed", "invoice.payment_failed", "customer.subscription.deleted"]);
    const first = FEB_1 + 3600;
    expect(events.map((e) => e.created)).toEqual([first + 3 * DAY, first + 5 * DAY, first + 7 * DAY, first + 7 * DAY]);
  });

  it("with afterRetries=unpaid it ends unpaid; paying the invoice with a good card makes it active again", async () => {
    const { stripe, control, clockCustomer, advance, subscribeActive, attach } = await setup();
    const { clock, customer } = await clockCustomer();
    const sub = await subscribeActive(customer.id);
    await stripe.subscriptions.update(sub.id, { default_payment_method: await attach(customer.id, "pm_card_chargeCustomerFail") });
    expect((await control("POST", "/_emulator/billing", { retryDays: [1, 1], afterRetries: "unpaid" })).body).toMatchObject({ retryDays: [1, 1], afterRetries: "unpaid" });
    await advance(clock.id, FEB_1 + 3 * DAY);
    const unpaid = await stripe.subscriptions.retrieve(sub.id);
    expect(unpaid.status).toBe("unpaid");
    const invoice = await stripe.invoices.retrieve(unpaid.latest_invoice as string);
    expect(invoice).toMatchObject({ status: "open", attempt_count: 3, next_payment_attempt: null });

    const declined = await stripe.invoices.pay(invoice.id).catch((e) => e);
    expect(declined).toMatchObject({ type: "StripeCardError", code: "card_declined" });
    const paid = await stripe.invoices.pay(invoice.id, { payment_method: "pm_card_visa" });
    expect(paid).toMatchObject({ status: "paid", amount_paid: 3000 });
    expect(await stripe.subscriptions.retrieve(sub.id)).toMatchObject({ status: "active" });
  });
});

describe("plan changes", () => {
  it("upgrade with always_invoice: prorated credit and charge by the second, invoiced and paid now; createPreview shows it first", async () => {
    const { stripe, clockCustomer, advance, billingEvents, lastEventId, subscribeActive, scaleMonthly, monthly } = await setup();
    const { clock, customer } = await clockCustomer();
    const sub = await subscribeActive(customer.id);
    const at = JAN_1 + 15 * DAY; // 16 of January's 31 days remain
    await advance(clock.id, at);
    const item = sub.items.data[0]!;
    const expected = Math.round((9000 * 16) / 31) - Math.round((3000 * 16) / 31); // 4645 - 1548

    const now = await stripe.invoices.createPreview({
      customer: customer.id,
      subscription: sub.id,
      subscription_details: { items: [{ id: item.id, price: scaleMonthly.id }], proration_behavior: "always_invoice", proration_date: at },
    });
    expect(now.amount_due).toBe(expected);
    expect(now.lines.data.map((l) => l.amount)).toEqual([-1548, 4645]);
    expect(now.lines.data.every((l) => l.parent?.subscription_item_details?.proration)).toBe(true);

    const next = await stripe.invoices.createPreview({
      customer: customer.id,
      subscription: sub.id,
      subscription_details: { items: [{ id: item.id, price: scaleMonthly.id }], proration_behavior: "create_prorations", proration_date: at },
    });
    expect(next).toMatchObject({ amount_due: expected + 9000, billing_reason: "subscription_cycle", period_end: FEB_1 });
    // A preview changes nothing.
    expect((await stripe.subscriptions.retrieve(sub.id)).items.data[0]!.price.id).toBe(monthly.id);

    const mark = await lastEventId();
    const upgraded = await stripe.subscriptions.update(sub.id, {
      items: [{ id: item.id, price: scaleMonthly.id }],
      proration_behavior: "always_invoice",
      proration_date: at,
      expand: ["latest_invoice"],
    });
    expect(upgraded.items.data[0]).toMatchObject({ id: item.id, price: { id: scaleMonthly.id }, current_period_start: JAN_1, current_period_end: FEB_1 });
    const invoice = upgraded.latest_invoice as Stripe.Invoice;
    expect(invoice).toMatchObject({ billing_reason: "subscription_update", status: "paid", amount_due: expected, amount_paid: expected });
    const events = await billingEvents(mark);
    expect(events.map((e) => e.type)).toEqual(["customer.subscription.updated", "invoice.created", "invoice.finalized", "invoice.paid", "invoice.payment_succeeded"]);
    expect((events[0]!.data.previous_attributes as Partial<Stripe.Subscription>).items!.data[0]!.price.id).toBe(monthly.id);

    // The next renewal bills the new price for the whole period.
    await advance(clock.id, FEB_1 + 2 * 3600);
    const renewal = await stripe.invoices.retrieve((await stripe.subscriptions.retrieve(sub.id)).latest_invoice as string);
    expect(renewal).toMatchObject({ billing_reason: "subscription_cycle", amount_paid: 9000 });
  });

  it("create_prorations carries the prorations to the renewal invoice; none changes the price without any", async () => {
    const { stripe, clockCustomer, advance, subscribeActive, scaleMonthly, monthly } = await setup();
    const { clock, customer } = await clockCustomer();
    const sub = await subscribeActive(customer.id);
    const at = JAN_1 + 15 * DAY;
    await advance(clock.id, at);
    const item = sub.items.data[0]!;
    const changed = await stripe.subscriptions.update(sub.id, { items: [{ id: item.id, price: scaleMonthly.id }], proration_date: at });
    expect(changed.latest_invoice).toBe(sub.latest_invoice); // no invoice now
    await stripe.subscriptions.update(sub.id, { items: [{ id: item.id, price: monthly.id }], proration_behavior: "none" });
    await advance(clock.id, FEB_1 + 2 * 3600);
    const renewal = await stripe.invoices.retrieve((await stripe.subscriptions.retrieve(sub.id)).latest_invoice as string);
    expect(renewal.lines.data.map((l) => l.amount)).toEqual([-1548, 4645, 3000]);
    expect(renewal.amount_paid).toBe(3000 + 4645 - 1548);
  });

  it("a downgrade with always_invoice credits the customer's balance, which pays the next invoices", async () => {
    const { stripe, clockCustomer, advance, subscribeActive, scaleMonthly, monthly } = await setup();
    const { clock, customer } = await clockCustomer();
    const sub = await subscribeActive(customer.id, scaleMonthly.id);
    const at = JAN_1 + 15 * DAY;
    await advance(clock.id, at);
    const down = await stripe.subscriptions.update(sub.id, { items: [{ id: sub.items.data[0]!.id, price: monthly.id }], proration_behavior: "always_invoice", expand: ["latest_invoice"] });
    const credit = Math.round((3000 * 16) / 31) - Math.round((9000 * 16) / 31); // 1548 - 4645
    expect(down.latest_invoice).toMatchObject({ total: credit, amount_due: 0, status: "paid", ending_balance: credit });
    expect(((await stripe.customers.retrieve(customer.id)) as Stripe.Customer).balance).toBe(credit);
    await advance(clock.id, FEB_1 + 2 * 3600);
    const renewal = await stripe.invoices.retrieve((await stripe.subscriptions.retrieve(sub.id)).latest_invoice as string);
    expect(renewal).toMatchObject({ total: 3000, starting_balance: credit, amount_due: 0, amount_paid: 0, status: "paid", ending_balance: 3000 + credit });
    expect(((await stripe.customers.retrieve(customer.id)) as Stripe.Customer).balance).toBe(3000 + credit);
  });

  it("a change during a trial keeps the trial end and invoices nothing", async () => {
    const { stripe, clockCustomer, advance, scaleMonthly, monthly, attach } = await setup();
    const { clock, customer } = await clockCustomer();
    const sub = await stripe.subscriptions.create({ customer: customer.id, items: [{ price: monthly.id }], trial_period_days: 14, default_payment_method: await attach(customer.id, "pm_card_visa") });
    await advance(clock.id, JAN_1 + 5 * DAY);
    const up = await stripe.subscriptions.update(sub.id, { items: [{ id: sub.items.data[0]!.id, price: scaleMonthly.id }], proration_behavior: "always_invoice" });
    expect(up).toMatchObject({ status: "trialing", trial_end: JAN_1 + 14 * DAY, latest_invoice: sub.latest_invoice });
    await advance(clock.id, JAN_1 + 14 * DAY + 2 * 3600);
    const first = await stripe.invoices.retrieve((await stripe.subscriptions.retrieve(sub.id)).latest_invoice as string);
    expect(first).toMatchObject({ billing_reason: "subscription_cycle", amount_paid: 9000 });
  });

  it("pending_if_incomplete: applied when its invoice is paid, held in pending_update while it is not, dropped after 23 hours", async () => {
    const { stripe, clockCustomer, advance, subscribeActive, scaleMonthly, monthly, billingEvents, lastEventId, attach } = await setup();
    const { clock, customer } = await clockCustomer();
    const sub = await subscribeActive(customer.id);
    const item = sub.items.data[0]!.id;
    await advance(clock.id, JAN_1 + 15 * DAY);

    let mark = await lastEventId();
    const paidNow = await stripe.subscriptions.update(sub.id, { items: [{ id: item, price: scaleMonthly.id }], proration_behavior: "always_invoice", payment_behavior: "pending_if_incomplete" });
    expect(paidNow).toMatchObject({ pending_update: null, status: "active" });
    expect(paidNow.items.data[0]!.price.id).toBe(scaleMonthly.id);
    expect((await billingEvents(mark)).map((e) => e.type)).toEqual(["invoice.created", "invoice.finalized", "invoice.paid", "invoice.payment_succeeded", "customer.subscription.updated"]);

    await stripe.subscriptions.update(sub.id, { default_payment_method: await attach(customer.id, "pm_card_chargeCustomerFail") });
    mark = await lastEventId();
    const held = await stripe.subscriptions.update(sub.id, { items: [{ id: item, price: monthly.id }], proration_behavior: "none", payment_behavior: "pending_if_incomplete" });
    // Nothing to pay: applied at once.
    expect(held.items.data[0]!.price.id).toBe(monthly.id);
    const pending = await stripe.subscriptions.update(sub.id, { items: [{ id: item, price: scaleMonthly.id }], proration_behavior: "always_invoice", payment_behavior: "pending_if_incomplete" });
    expect(pending).toMatchObject({ status: "active", pending_update: { expires_at: JAN_1 + 15 * DAY + 23 * 3600 } });
    expect(pending.items.data[0]!.price.id).toBe(monthly.id);
    expect(pending.pending_update!.subscription_items![0]!.price.id).toBe(scaleMonthly.id);
    const invoice = await stripe.invoices.retrieve(pending.latest_invoice as string);
    expect(invoice).toMatchObject({ status: "open", billing_reason: "subscription_update", next_payment_attempt: null });

    await stripe.invoices.pay(invoice.id, { payment_method: "pm_card_visa" });
    const applied = await stripe.subscriptions.retrieve(sub.id);
    expect(applied).toMatchObject({ pending_update: null, status: "active" });
    expect(applied.items.data[0]!.price.id).toBe(scaleMonthly.id);
    expect((await billingEvents(mark)).map((e) => e.type)).toContain("customer.subscription.pending_update_applied");

    // Once more, left unpaid: it expires.
    await stripe.subscriptions.update(sub.id, { items: [{ id: item, price: monthly.id }], proration_behavior: "none" });
    const again = await stripe.subscriptions.update(sub.id, { items: [{ id: item, price: scaleMonthly.id }], proration_behavior: "always_invoice", payment_behavior: "pending_if_incomplete" });
    expect(again.pending_update).not.toBeNull();
    await advance(clock.id, JAN_1 + 17 * DAY);
    const expired = await stripe.subscriptions.retrieve(sub.id);
    expect(expired).toMatchObject({ pending_update: null, status: "active" });
    expect(expired.items.data[0]!.price.id).toBe(monthly.id);
    expect((await stripe.invoices.retrieve(again.latest_invoice as string)).status).toBe("void");
    expect((await stripe.events.list({ type: "customer.subscription.pending_update_expired" })).data).toHaveLength(1);
  });

  it("monthly → annual starts a new yearly period now, crediting the unused month", async () => {
    const { stripe, clockCustomer, advance, subscribeActive, annual } = await setup();
    const { clock, customer } = await clockCustomer();
    const sub = await subscribeActive(customer.id);
    const at = JAN_1 + 15 * DAY;
    await advance(clock.id, at);
    const switched = await stripe.subscriptions.update(sub.id, { items: [{ id: sub.items.data[0]!.id, price: annual.id }], expand: ["latest_invoice"] });
    expect(switched).toMatchObject({ billing_cycle_anchor: at, status: "active" });
    expect(switched.items.data[0]).toMatchObject({ current_period_start: at, current_period_end: Date.UTC(2027, 0, 16) / 1000 });
    const invoice = switched.latest_invoice as Stripe.Invoice;
    expect(invoice).toMatchObject({ billing_reason: "subscription_update", status: "paid", amount_paid: 30000 - 1548 });
  });
});

describe("subscription schedules (a change at period end)", () => {
  it("a downgrade scheduled for the period end applies before the renewal, which bills the new plan; the schedule then releases", async () => {
    const { stripe, clockCustomer, advance, subscribeActive, scaleMonthly, monthly, billingEvents, lastEventId } = await setup();
    const { clock, customer } = await clockCustomer();
    const sub = await subscribeActive(customer.id, scaleMonthly.id);
    await advance(clock.id, JAN_1 + 10 * DAY);
    const created = await stripe.subscriptionSchedules.create({ from_subscription: sub.id });
    expect(created).toMatchObject({ status: "active", subscription: sub.id, end_behavior: "release", current_phase: { start_date: JAN_1, end_date: FEB_1 } });
    expect(created.phases[0]!.items[0]!.price).toBe(scaleMonthly.id);
    const scheduled = await stripe.subscriptionSchedules.update(created.id, {
      end_behavior: "release",
      phases: [
        { items: [{ price: scaleMonthly.id, quantity: 1 }], start_date: JAN_1, end_date: FEB_1 },
        { items: [{ price: monthly.id, quantity: 1 }], duration: { interval: "month", interval_count: 1 } },
      ],
    });
    expect(scheduled.phases.map((ph) => [ph.start_date, ph.end_date])).toEqual([[JAN_1, FEB_1], [FEB_1, MAR_1]]);
    const now = await stripe.subscriptions.retrieve(sub.id);
    expect(now).toMatchObject({ schedule: created.id });
    expect(now.items.data[0]!.price.id).toBe(scaleMonthly.id); // nothing changes before the period end
    // The upcoming invoice already shows the scheduled plan.
    expect((await stripe.invoices.createPreview({ customer: customer.id, subscription: sub.id })).amount_due).toBe(3000);

    const mark = await lastEventId();
    await advance(clock.id, FEB_1 + 2 * 3600);
    const renewed = await stripe.subscriptions.retrieve(sub.id);
    expect(renewed.items.data[0]).toMatchObject({ price: { id: monthly.id }, current_period_start: FEB_1, current_period_end: MAR_1 });
    const invoice = await stripe.invoices.retrieve(renewed.latest_invoice as string);
    expect(invoice).toMatchObject({ billing_reason: "subscription_cycle", amount_paid: 3000 });
    expect(invoice.lines.data.map((l) => l.amount)).toEqual([3000]);
    const events = await billingEvents(mark);
    const types = events.map((e) => e.type);
    expect(types.indexOf("customer.subscription.updated")).toBeLessThan(types.indexOf("invoice.created"));
    expect((events.find((e) => e.type === "invoice.upcoming")!.data.object as Stripe.Invoice).amount_due).toBe(3000);

    await advance(clock.id, MAR_1 + 2 * 3600);
    expect(await stripe.subscriptionSchedules.retrieve(created.id)).toMatchObject({ status: "released", released_subscription: sub.id, subscription: null });
    const after = await stripe.subscriptions.retrieve(sub.id);
    expect(after).toMatchObject({ status: "active", schedule: null });
    expect(await stripe.invoices.retrieve(after.latest_invoice as string)).toMatchObject({ amount_paid: 3000 });
  });

  it("releasing the schedule before the period end undoes the scheduled change", async () => {
    const { stripe, clockCustomer, advance, subscribeActive, scaleMonthly, monthly } = await setup();
    const { clock, customer } = await clockCustomer();
    const sub = await subscribeActive(customer.id, scaleMonthly.id);
    const schedule = await stripe.subscriptionSchedules.create({ from_subscription: sub.id });
    await stripe.subscriptionSchedules.update(schedule.id, {
      phases: [{ items: [{ price: scaleMonthly.id }], start_date: JAN_1, end_date: FEB_1 }, { items: [{ price: monthly.id }] }],
    });
    expect(await stripe.subscriptionSchedules.release(schedule.id)).toMatchObject({ status: "released" });
    expect((await stripe.subscriptions.retrieve(sub.id)).schedule).toBeNull();
    await advance(clock.id, FEB_1 + 2 * 3600);
    const renewed = await stripe.subscriptions.retrieve(sub.id);
    expect(renewed.items.data[0]!.price.id).toBe(scaleMonthly.id);
    expect(await stripe.invoices.retrieve(renewed.latest_invoice as string)).toMatchObject({ amount_paid: 9000 });
  });
});

describe("cancellation", () => {
  it("cancel_at_period_end, undone and redone; at the period end the subscription is deleted without a new invoice", async () => {
    const { stripe, clockCustomer, advance, billingEvents, lastEventId, subscribeActive } = await setup();
    const { clock, customer } = await clockCustomer();
    const sub = await subscribeActive(customer.id);
    const mark = await lastEventId();
    const set = await stripe.subscriptions.update(sub.id, { cancel_at_period_end: true });
    expect(set).toMatchObject({ cancel_at_period_end: true, cancel_at: FEB_1, canceled_at: JAN_1, status: "active" });
    const undone = await stripe.subscriptions.update(sub.id, { cancel_at_period_end: false });
    expect(undone).toMatchObject({ cancel_at_period_end: false, cancel_at: null, canceled_at: null });
    await stripe.subscriptions.update(sub.id, { cancel_at_period_end: true });
    await expect(stripe.invoices.createPreview({ customer: customer.id, subscription: sub.id })).rejects.toMatchObject({ code: "invoice_upcoming_none" });

    await advance(clock.id, FEB_1 + DAY);
    const ended = await stripe.subscriptions.retrieve(sub.id);
    expect(ended).toMatchObject({ status: "canceled", ended_at: FEB_1, cancellation_details: { reason: "cancellation_requested" } });
    const events = await billingEvents(mark);
    expect(events.map((e) => e.type)).toEqual(["customer.subscription.updated", "customer.subscription.updated", "customer.subscription.updated", "customer.subscription.deleted"]);
    expect(events[0]!.data.previous_attributes).toMatchObject({ cancel_at_period_end: false, cancel_at: null });
    expect(events[1]!.data.previous_attributes).toMatchObject({ cancel_at_period_end: true });
    expect((await stripe.invoices.list({ subscription: sub.id })).data).toHaveLength(1);
  });

  it("cancel now ends it at once", async () => {
    const { stripe, clockCustomer, subscribeActive } = await setup();
    const { customer } = await clockCustomer();
    const sub = await subscribeActive(customer.id);
    const canceled = await stripe.subscriptions.cancel(sub.id);
    expect(canceled).toMatchObject({ status: "canceled", ended_at: JAN_1, canceled_at: JAN_1 });
    await expect(stripe.subscriptions.update(sub.id, { cancel_at_period_end: true })).rejects.toMatchObject({ type: "StripeInvalidRequestError" });
  });
});

describe("billing portal", () => {
  it("serves a page with the plan and invoices; its actions cancel at period end and update the card, with the API's events", async () => {
    const { stripe, clockCustomer, subscribeActive, billingEvents, lastEventId, allEvents, last4 } = await setup();
    const { customer } = await clockCustomer();
    const sub = await subscribeActive(customer.id);
    const session = await stripe.billingPortal.sessions.create({ customer: customer.id, return_url: "http://localhost:3000/orgs/acme/billing/plan" });
    expect(session).toMatchObject({ object: "billing_portal.session", customer: customer.id, url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\/p\/session\/test_/) });

    const pageRes = await fetch(session.url);
    expect(pageRes.status).toBe(200);
    expect(pageRes.headers.get("content-type")).toMatch(/text\/html/);
    const html = await pageRes.text();
    expect(html).toContain("Growth");
    expect(html).toContain(`data-subscription="${sub.id}"`);
    expect(html).toContain("visa •••• 4242");
    const invoice = await stripe.invoices.retrieve(sub.latest_invoice as string);
    expect(html).toContain(invoice.hosted_invoice_url!);
    expect((await fetch(invoice.hosted_invoice_url!)).status).toBe(200);

    const mark = await lastEventId();
    const form = (body: Record<string, string>) => ({ method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: new URLSearchParams(body).toString(), redirect: "manual" as const });
    const cancel = await fetch(`${session.url}/cancel`, form({ subscription: sub.id }));
    expect(cancel.status).toBe(303);
    expect(await stripe.subscriptions.retrieve(sub.id)).toMatchObject({ cancel_at_period_end: true, cancel_at: FEB_1 });
    const card = await fetch(`${session.url}/card`, form({ payment_method: "pm_card_mastercard" }));
    expect(card.status).toBe(303);
    const newPm = ((await stripe.customers.retrieve(customer.id)) as Stripe.Customer).invoice_settings.default_payment_method as string;
    expect(await last4(newPm)).toBe("4444");
    expect((await stripe.subscriptions.retrieve(sub.id)).default_payment_method).toBe(newPm);
    expect(await (await fetch(session.url)).text()).toContain("mastercard •••• 4444");
    const events = await billingEvents(mark);
    expect(events.map((e) => e.type)).toEqual(["customer.subscription.updated", "customer.subscription.updated"]);
    const all = (await allEvents()).map((e) => e.type);
    expect(all).toContain("payment_method.attached");
    expect((await fetch(`${session.url.replace(/test_\w+$/, "test_nope")}`)).status).toBe(404);
  });
});

describe("dunning fixed in the portal", () => {
  it("past_due after a failing renewal; updating the card in the portal pays the open invoice and the subscription is active", async () => {
    const { stripe, clockCustomer, advance, subscribeActive, billingEvents, lastEventId, attach, last4 } = await setup();
    const { clock, customer } = await clockCustomer();
    const sub = await subscribeActive(customer.id);
    await stripe.subscriptions.update(sub.id, { default_payment_method: await attach(customer.id, "pm_card_chargeCustomerFail") });
    await advance(clock.id, FEB_1 + 2 * 3600);
    expect((await stripe.subscriptions.retrieve(sub.id)).status).toBe("past_due");
    const session = await stripe.billingPortal.sessions.create({ customer: customer.id });
    const mark = await lastEventId();
    const res = await fetch(`${session.url}/card`, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: "payment_method=pm_card_visa", redirect: "manual" });
    expect(res.status).toBe(303);
    const page = await (await fetch(new URL(res.headers.get("location")!, session.url))).text();
    expect(page).toContain("outstanding invoice(s) paid");
    const fixed = await stripe.subscriptions.retrieve(sub.id);
    expect(fixed.status).toBe("active");
    expect(await last4(fixed.default_payment_method)).toBe("4242");
    expect(await stripe.invoices.retrieve(fixed.latest_invoice as string)).toMatchObject({ status: "paid", amount_paid: 3000, attempt_count: 2, next_payment_attempt: null });
    const events = await billingEvents(mark);
    expect(events.map((e) => e.type)).toEqual(["customer.subscription.updated", "invoice.paid", "invoice.payment_succeeded", "customer.subscription.updated"]);
    expect(events.at(-1)!.data.previous_attributes).toEqual({ status: "past_due" });
  });
});

describe("the emulator's own clock", () => {
  it("renews subscriptions without a test clock when /_emulator/clock/advance moves past the period end", async () => {
    const { stripe, control, subscribeActive } = await setup();
    const customer = await stripe.customers.create({ name: "No clock" });
    const sub = await subscribeActive(customer.id);
    const end = sub.items.data[0]!.current_period_end;
    const now = (await control("GET", "/_emulator/clock")).body.now as number;
    await control("POST", "/_emulator/clock/advance", { seconds: end - now + 2 * 3600 });
    const renewed = await stripe.subscriptions.retrieve(sub.id);
    expect(renewed.items.data[0]!.current_period_start).toBe(end);
    expect(await stripe.invoices.retrieve(renewed.latest_invoice as string)).toMatchObject({ billing_reason: "subscription_cycle", status: "paid" });
  });
});

describe("webhooks and persistence", () => {
  it("delivers the billing events signed, with the objects as the SDK types them (no includable fields)", async () => {
    const { stripe, control, clockCustomer, subscribeActive } = await setup();
    const r = await receiver();
    cleanups.push(r.close);
    await control("POST", "/_emulator/webhook_endpoints", { url: r.url, secret: "whsec_subs" });
    const { customer } = await clockCustomer();
    const sub = await subscribeActive(customer.id);
    await control("POST", "/_emulator/drain", {});
    const events = r.received.map((x) => stripe.webhooks.constructEvent(x.body, x.signature, "whsec_subs"));
    const paid = events.find((e) => e.type === "invoice.paid")!;
    const invoice = paid.data.object as Stripe.Invoice;
    expect(invoice).toMatchObject({ object: "invoice", status: "paid", parent: { subscription_details: { subscription: sub.id } } });
    expect(invoice.confirmation_secret).toBeUndefined();
    const updated = events.filter((e) => e.type === "customer.subscription.updated").at(-1)!;
    expect((updated.data.object as Stripe.Subscription).items.data[0]!.current_period_end).toBe(FEB_1);
    expect(events.find((e) => e.type === "invoice_payment.paid")).toBeDefined();
  });

  it("keeps subscriptions, invoices and test clocks across a restart; renewals continue after it", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "emu-subs-"));
    const stateFile = path.join(dir, "state.json");
    const first = await setup({ stateFile });
    const { clock, customer } = await first.clockCustomer();
    const sub = await first.subscribeActive(customer.id);
    await first.emu.close();

    const second = await setup({ stateFile });
    expect((await second.stripe.subscriptions.retrieve(sub.id)).status).toBe("active");
    await second.advance(clock.id, FEB_1 + 2 * 3600);
    const renewed = await second.stripe.subscriptions.retrieve(sub.id);
    expect(renewed.items.data[0]!.current_period_start).toBe(FEB_1);
    expect((await second.stripe.invoices.list({ subscription: sub.id })).data.map((i) => i.status)).toEqual(["paid", "paid"]);
  });
});
