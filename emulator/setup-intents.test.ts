// SetupIntents and off-session PaymentIntents through the real stripe SDK: saving a card for
// later, charging it with the customer away, and the refusals Stripe gives.
import { afterEach, describe, expect, it } from "vitest";
import Stripe from "stripe";
import { emulatorWithSdk, receiver } from "./test-helpers";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function setup() {
  const h = await emulatorWithSdk({});
  cleanups.push(() => h.emu.close());
  return h;
}

async function savedCard(stripe: Stripe, testPm: string) {
  const customer = await stripe.customers.create({ name: "Acme" });
  const si = await stripe.setupIntents.create({ customer: customer.id, usage: "off_session", automatic_payment_methods: { enabled: true, allow_redirects: "never" } });
  const done = await stripe.setupIntents.confirm(si.id, { payment_method: testPm });
  return { customer, si: done };
}

describe("setup intents", () => {
  it("saves a card: a new pm_… attached to the customer, with its events", async () => {
    const { stripe } = await setup();
    const { customer, si } = await savedCard(stripe, "pm_card_visa");
    expect(si).toMatchObject({ object: "setup_intent", status: "succeeded", usage: "off_session", customer: customer.id });
    expect(si.id).toMatch(/^seti_/);
    expect(si.client_secret).toMatch(new RegExp(`^${si.id}_secret_`));
    expect(si.payment_method).toMatch(/^pm_/);
    expect(si.payment_method).not.toBe("pm_card_visa");
    const pm = await stripe.paymentMethods.retrieve(si.payment_method as string);
    expect(pm).toMatchObject({ customer: customer.id, card: { brand: "visa", last4: "4242" } });
    expect((await stripe.setupIntents.retrieve(si.id)).status).toBe("succeeded");
    const types = (await stripe.events.list({ limit: 10 })).data.map((e) => e.type);
    expect(types.slice(0, 3)).toEqual(["setup_intent.succeeded", "payment_method.attached", "setup_intent.created"]);
  });

  it("a declining card is not saved (402 with the intent); an authentication card needs an action", async () => {
    const { stripe } = await setup();
    const customer = await stripe.customers.create({ name: "A" });
    const si = await stripe.setupIntents.create({ customer: customer.id });
    const err = await stripe.setupIntents.confirm(si.id, { payment_method: "pm_card_visa_chargeDeclined" }).catch((e) => e);
    expect(err).toBeInstanceOf(Stripe.errors.StripeCardError);
    expect(err).toMatchObject({ code: "card_declined", decline_code: "generic_decline" });
    const after = await stripe.setupIntents.retrieve(si.id);
    expect(after).toMatchObject({ status: "requires_payment_method", payment_method: null, last_setup_error: { code: "card_declined" } });
    const auth = await stripe.setupIntents.confirm(si.id, { payment_method: "pm_card_authenticationRequired" });
    expect(auth.status).toBe("requires_action");
    const canceled = await stripe.setupIntents.cancel(si.id, { cancellation_reason: "abandoned" });
    expect(canceled.status).toBe("canceled");
    await expect(stripe.setupIntents.confirm(si.id, { payment_method: "pm_card_visa" })).rejects.toMatchObject({ code: "setup_intent_unexpected_state" });
    await expect(stripe.setupIntents.create({ customer: "cus_missing" })).rejects.toMatchObject({ code: "resource_missing" });
    await expect(stripe.setupIntents.create({ customer: customer.id, usage: "sometimes" as "off_session" })).rejects.toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
  });
});

describe("setup intent webhooks", () => {
  it("delivers setup_intent.setup_failed and .succeeded signed, with the intent as it was then; detach emits payment_method.detached", async () => {
    const { stripe, control } = await setup();
    const r = await receiver();
    cleanups.push(r.close);
    await control("POST", "/_emulator/webhook_endpoints", { url: r.url, secret: "whsec_setup" });
    const customer = await stripe.customers.create({ name: "Acme" });
    const si = await stripe.setupIntents.create({ customer: customer.id, usage: "off_session", metadata: { org_id: "org_1" } });
    await stripe.setupIntents.confirm(si.id, { payment_method: "pm_card_visa_chargeDeclinedInsufficientFunds" }).catch(() => null);
    const ok = await stripe.setupIntents.confirm(si.id, { payment_method: "pm_card_visa" });
    await stripe.paymentMethods.detach(ok.payment_method as string);
    await control("POST", "/_emulator/drain", {});
    const events = r.received.map((x) => stripe.webhooks.constructEvent(x.body, x.signature, "whsec_setup"));
    const byType = (t: string) => events.filter((e) => e.type === t);
    expect(events.map((e) => e.type).sort()).toEqual(
      ["customer.created", "payment_method.attached", "payment_method.detached", "setup_intent.created", "setup_intent.setup_failed", "setup_intent.succeeded"].sort(),
    );
    const failed = byType("setup_intent.setup_failed")[0]!.data.object as Stripe.SetupIntent;
    expect(failed).toMatchObject({
      id: si.id,
      status: "requires_payment_method",
      payment_method: null,
      metadata: { org_id: "org_1" },
      last_setup_error: { type: "card_error", code: "card_declined", decline_code: "insufficient_funds" },
    });
    const succeeded = byType("setup_intent.succeeded")[0]!.data.object as Stripe.SetupIntent;
    expect(succeeded).toMatchObject({ id: si.id, status: "succeeded", payment_method: ok.payment_method, last_setup_error: null, customer: customer.id });
    const detached = byType("payment_method.detached")[0]!;
    expect(detached.data.object).toMatchObject({ id: ok.payment_method, customer: null });
    expect(detached.data.previous_attributes).toEqual({ customer: customer.id });
    // Detaching again is refused as Stripe does (not attached).
    await expect(stripe.paymentMethods.detach(ok.payment_method as string)).rejects.toMatchObject({ code: "payment_method_unexpected_state" });
  });

  it("cancel emits setup_intent.canceled; a succeeded intent cannot be canceled", async () => {
    const { stripe } = await setup();
    const customer = await stripe.customers.create({ name: "A" });
    const si = await stripe.setupIntents.create({ customer: customer.id });
    await stripe.setupIntents.cancel(si.id, { cancellation_reason: "abandoned" });
    expect((await stripe.events.list({ limit: 1 })).data[0]).toMatchObject({ type: "setup_intent.canceled", data: { object: { id: si.id, status: "canceled", cancellation_reason: "abandoned" } } });
    const { si: done } = await savedCard(stripe, "pm_card_visa");
    await expect(stripe.setupIntents.cancel(done.id)).rejects.toMatchObject({ code: "setup_intent_unexpected_state" });
  });
});

describe("setup_future_usage on a payment", () => {
  it("a succeeded payment with setup_future_usage and a customer saves its card to the customer", async () => {
    const { stripe } = await setup();
    const customer = await stripe.customers.create({ name: "Acme" });
    const pi = await stripe.paymentIntents.create({ amount: 2900, currency: "usd", customer: customer.id, setup_future_usage: "off_session", automatic_payment_methods: { enabled: true, allow_redirects: "never" } });
    expect(pi.setup_future_usage).toBe("off_session");
    const paid = await stripe.paymentIntents.confirm(pi.id, { payment_method: "pm_card_visa" });
    expect(paid.status).toBe("succeeded");
    const pm = await stripe.paymentMethods.retrieve(paid.payment_method as string);
    expect(pm).toMatchObject({ customer: customer.id, card: { last4: "4242" } });
    const types = (await stripe.events.list({ limit: 4 })).data.map((e) => e.type);
    expect(types).toEqual(["payment_intent.succeeded", "charge.succeeded", "payment_method.attached", "payment_intent.created"]);
    // The saved card pays off-session afterwards.
    const later = await stripe.paymentIntents.create({ amount: 4900, currency: "usd", customer: customer.id, payment_method: pm.id, off_session: true, confirm: true });
    expect(later.status).toBe("succeeded");
  });

  it("without setup_future_usage nothing is saved; a declined payment saves nothing; a bad value is refused", async () => {
    const { stripe } = await setup();
    const customer = await stripe.customers.create({ name: "Acme" });
    const plain = await stripe.paymentIntents.create({ amount: 2900, currency: "usd", customer: customer.id, payment_method: "pm_card_visa", confirm: true });
    expect((await stripe.paymentMethods.retrieve(plain.payment_method as string)).customer).toBeNull();
    const declined = await stripe.paymentIntents.create({ amount: 2900, currency: "usd", customer: customer.id, setup_future_usage: "off_session" });
    await expect(stripe.paymentIntents.confirm(declined.id, { payment_method: "pm_card_visa_chargeDeclined" })).rejects.toBeInstanceOf(Stripe.errors.StripeCardError);
    expect((await stripe.events.list({ type: "payment_method.attached" })).data).toHaveLength(0);
    await expect(stripe.paymentIntents.create({ amount: 2900, currency: "usd", setup_future_usage: "sometimes" as "off_session" })).rejects.toMatchObject({ param: "setup_future_usage" });
  });
});

describe("off-session payment intents", () => {
  it("charge a saved card with off_session + confirm", async () => {
    const { stripe } = await setup();
    const { customer, si } = await savedCard(stripe, "pm_card_visa");
    const pi = await stripe.paymentIntents.create(
      { amount: 4900, currency: "usd", customer: customer.id, payment_method: si.payment_method as string, off_session: true, confirm: true },
      { idempotencyKey: "purchase:1" },
    );
    expect(pi).toMatchObject({ status: "succeeded", amount_received: 4900, payment_method: si.payment_method });
    // The same key gives the same intent back.
    const again = await stripe.paymentIntents.create(
      { amount: 4900, currency: "usd", customer: customer.id, payment_method: si.payment_method as string, off_session: true, confirm: true },
      { idempotencyKey: "purchase:1" },
    );
    expect(again.id).toBe(pi.id);
  });

  it("a card that declines every charge is declined off-session; a card needing 3-D Secure is declined with authentication_required", async () => {
    const { stripe } = await setup();
    const failing = await savedCard(stripe, "pm_card_chargeCustomerFail");
    expect(failing.si.status).toBe("succeeded");
    const err = await stripe.paymentIntents
      .create({ amount: 4900, currency: "usd", customer: failing.customer.id, payment_method: failing.si.payment_method as string, off_session: true, confirm: true })
      .catch((e) => e);
    expect(err).toBeInstanceOf(Stripe.errors.StripeCardError);
    expect(err.payment_intent).toMatchObject({ status: "requires_payment_method", last_payment_error: { decline_code: "generic_decline" } });

    const customer = await stripe.customers.create({ name: "B" });
    const auth = await stripe.paymentIntents
      .create({ amount: 4900, currency: "usd", customer: customer.id, payment_method: "pm_card_authenticationRequired", off_session: true, confirm: true })
      .catch((e) => e);
    expect(auth).toBeInstanceOf(Stripe.errors.StripeCardError);
    expect(auth).toMatchObject({ code: "authentication_required" });
    expect(auth.payment_intent).toMatchObject({ status: "requires_payment_method", last_payment_error: { code: "authentication_required" } });
  });

  it("refuses off_session without confirm, and another customer's saved card, before creating anything", async () => {
    const { stripe } = await setup();
    const { si } = await savedCard(stripe, "pm_card_visa");
    const other = await stripe.customers.create({ name: "Other" });
    await expect(stripe.paymentIntents.create({ amount: 4900, currency: "usd", customer: other.id, payment_method: "pm_card_visa", off_session: true })).rejects.toMatchObject({ param: "off_session" });
    await expect(
      stripe.paymentIntents.create({ amount: 4900, currency: "usd", customer: other.id, payment_method: si.payment_method as string, off_session: true, confirm: true }),
    ).rejects.toMatchObject({ param: "payment_method" });
    expect((await stripe.paymentIntents.list({ customer: other.id })).data).toHaveLength(0);
  });
});
