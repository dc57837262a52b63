// The emulator through the real stripe SDK: resources, errors, idempotency, signed webhook
// delivery with retries and chaos, persistence across restarts, the clock.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import Stripe from "stripe";
import { emulatorWithSdk, receiver } from "./test-helpers";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function setup(opts = {}) {
  const h = await emulatorWithSdk(opts);
  cleanups.push(() => h.emu.close());
  return h;
}

describe("customers", () => {
  it("creates, retrieves, updates and lists; unknown ids are resource_missing", async () => {
    const { stripe } = await setup();
    const c = await stripe.customers.create({ name: "Acme", email: "a@acme.test", metadata: { org_id: "o1" } });
    expect(c).toMatchObject({ object: "customer", name: "Acme", email: "a@acme.test", livemode: false, metadata: { org_id: "o1" } });
    expect(c.id).toMatch(/^cus_[A-Za-z0-9]{24}$/);
    expect((await stripe.customers.retrieve(c.id)).id).toBe(c.id);
    const u = await stripe.customers.update(c.id, { name: "Acme Outdoor" });
    expect(u.name).toBe("Acme Outdoor");
    expect((await stripe.customers.list({ email: "a@acme.test" })).data.map((x) => x.id)).toEqual([c.id]);
    const err = await stripe.customers.retrieve("cus_missing").catch((e) => e);
    expect(err).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    expect(err).toMatchObject({ statusCode: 404, code: "resource_missing" });
  });

  it("rejects a missing or live key with 401", async () => {
    const { emu } = await setup();
    const live = new Stripe("sk_live_nope", { host: "127.0.0.1", port: emu.port, protocol: "http" });
    await expect(live.customers.list()).rejects.toBeInstanceOf(Stripe.errors.StripeAuthenticationError);
  });
});

describe("payment intents", () => {
  it("succeeds with pm_card_visa: amount_received, latest_charge, events", async () => {
    const { stripe } = await setup();
    const customer = await stripe.customers.create({ name: "A" });
    const pi = await stripe.paymentIntents.create({ amount: 4900, currency: "usd", customer: customer.id, metadata: { purchase_id: "p1" } });
    expect(pi).toMatchObject({ status: "requires_payment_method", amount: 4900, amount_received: 0, customer: customer.id });
    expect(pi.client_secret).toMatch(new RegExp(`^${pi.id}_secret_`));
    const done = await stripe.paymentIntents.confirm(pi.id, { payment_method: "pm_card_visa" });
    expect(done).toMatchObject({ status: "succeeded", amount_received: 4900, payment_method: "pm_card_visa" });
    const charge = await stripe.charges.retrieve(done.latest_charge as string);
    expect(charge).toMatchObject({ paid: true, amount: 4900, payment_intent: pi.id, status: "succeeded" });
    const types = (await stripe.events.list({ limit: 20 })).data.map((e) => e.type);
    expect(types).toEqual(["payment_intent.succeeded", "charge.succeeded", "payment_intent.created", "customer.created"]);
  });

  it.each([
    ["pm_card_visa_chargeDeclined", "card_declined", "generic_decline", /declined/],
    ["pm_card_visa_chargeDeclinedInsufficientFunds", "card_declined", "insufficient_funds", /insufficient funds/],
    ["pm_card_chargeDeclinedExpiredCard", "expired_card", "expired_card", /expired/],
    ["pm_card_chargeDeclinedIncorrectCvc", "incorrect_cvc", "incorrect_cvc", /security code/],
    ["pm_card_chargeDeclinedProcessingError", "processing_error", "processing_error", /processing/],
  ])("%s declines with %s / %s", async (pm, code, declineCode, message) => {
    const { stripe } = await setup();
    const pi = await stripe.paymentIntents.create({ amount: 2000, currency: "usd" });
    const err = await stripe.paymentIntents.confirm(pi.id, { payment_method: pm }).catch((e) => e);
    expect(err).toBeInstanceOf(Stripe.errors.StripeCardError);
    expect(err).toMatchObject({ statusCode: 402, code, decline_code: declineCode });
    expect(err.message).toMatch(message);
    expect(err.payment_intent).toMatchObject({ id: pi.id, status: "requires_payment_method" });
    const after = await stripe.paymentIntents.retrieve(pi.id);
    expect(after.status).toBe("requires_payment_method");
    expect(after.last_payment_error).toMatchObject({ code, decline_code: declineCode });
    const failed = await stripe.events.list({ type: "payment_intent.payment_failed" });
    expect(failed.data).toHaveLength(1);
  });

  it("authentication required → requires_action, then the customer completes or fails it", async () => {
    const { stripe, control } = await setup();
    const a = await stripe.paymentIntents.create({ amount: 1500, currency: "usd" });
    const pending = await stripe.paymentIntents.confirm(a.id, { payment_method: "pm_card_authenticationRequired" });
    expect(pending).toMatchObject({ status: "requires_action", next_action: { type: "use_stripe_sdk" } });
    expect((await control("POST", `/_emulator/payment_intents/${a.id}/authenticate`, { outcome: "succeed" })).body.status).toBe("succeeded");
    const b = await stripe.paymentIntents.create({ amount: 1500, currency: "usd" });
    await stripe.paymentIntents.confirm(b.id, { payment_method: "pm_card_authenticationRequired" });
    await control("POST", `/_emulator/payment_intents/${b.id}/authenticate`, { outcome: "fail" });
    expect(await stripe.paymentIntents.retrieve(b.id)).toMatchObject({
      status: "requires_payment_method",
      last_payment_error: { code: "payment_intent_authentication_failure" },
    });
  });

  it("cancels, and refuses to cancel or confirm a final intent", async () => {
    const { stripe } = await setup();
    const a = await stripe.paymentIntents.create({ amount: 1000, currency: "usd" });
    expect(await stripe.paymentIntents.cancel(a.id, { cancellation_reason: "abandoned" })).toMatchObject({ status: "canceled", cancellation_reason: "abandoned" });
    await expect(stripe.paymentIntents.confirm(a.id, { payment_method: "pm_card_visa" })).rejects.toMatchObject({ code: "payment_intent_unexpected_state" });
    const b = await stripe.paymentIntents.create({ amount: 1000, currency: "usd", payment_method: "pm_card_visa", confirm: true });
    expect(b.status).toBe("succeeded");
    await expect(stripe.paymentIntents.cancel(b.id)).rejects.toMatchObject({ type: "StripeInvalidRequestError", code: "payment_intent_unexpected_state" });
  });

  it("validates parameters like Stripe", async () => {
    const { stripe } = await setup();
    await expect(stripe.paymentIntents.create({ currency: "usd" } as Stripe.PaymentIntentCreateParams)).rejects.toMatchObject({ code: "parameter_missing", param: "amount" });
    await expect(stripe.paymentIntents.create({ amount: 10.5, currency: "usd" })).rejects.toMatchObject({ code: "parameter_invalid_integer" });
    await expect(stripe.paymentIntents.create({ amount: 1000, currency: "usd", customer: "cus_nope" })).rejects.toMatchObject({ code: "resource_missing" });
    const pi = await stripe.paymentIntents.create({ amount: 1000, currency: "usd" });
    await expect(stripe.paymentIntents.confirm(pi.id, { payment_method: "pm_bogus" })).rejects.toMatchObject({ code: "resource_missing" });
  });
});

describe("idempotency", () => {
  it("replays the first response for the same key and body, and rejects other parameters", async () => {
    const { stripe } = await setup();
    const a = await stripe.customers.create({ name: "A" }, { idempotencyKey: "k-1" });
    const b = await stripe.customers.create({ name: "A" }, { idempotencyKey: "k-1" });
    expect(b.id).toBe(a.id);
    expect(b.lastResponse.headers["idempotent-replayed"]).toBe("true");
    await expect(stripe.customers.create({ name: "B" }, { idempotencyKey: "k-1" })).rejects.toBeInstanceOf(Stripe.errors.StripeIdempotencyError);
    expect((await stripe.customers.list()).data).toHaveLength(1);
  });

  it("replays errors too, and concurrent requests with one key execute once", async () => {
    const { stripe } = await setup();
    const pi = await stripe.paymentIntents.create({ amount: 1000, currency: "usd" });
    const e1 = await stripe.paymentIntents.confirm(pi.id, { payment_method: "pm_card_visa_chargeDeclined" }, { idempotencyKey: "c-1" }).catch((e) => e);
    const e2 = await stripe.paymentIntents.confirm(pi.id, { payment_method: "pm_card_visa_chargeDeclined" }, { idempotencyKey: "c-1" }).catch((e) => e);
    expect(e1.decline_code).toBe("generic_decline");
    expect(e2.decline_code).toBe("generic_decline");
    expect((await stripe.events.list({ type: "payment_intent.payment_failed" })).data).toHaveLength(1);
    const many = await Promise.all(Array.from({ length: 10 }, () => stripe.customers.create({ name: "Race" }, { idempotencyKey: "race" })));
    expect(new Set(many.map((c) => c.id)).size).toBe(1);
    expect((await stripe.customers.list({ limit: 100 })).data.filter((c) => c.name === "Race")).toHaveLength(1);
  });
});

describe("webhooks", () => {
  it("delivers events signed so that constructEvent accepts them, and only with the right secret", async () => {
    const { stripe, control } = await setup();
    const r = await receiver();
    cleanups.push(r.close);
    const ep = await control("POST", "/_emulator/webhook_endpoints", { url: r.url, secret: "whsec_right" });
    expect(ep.body).toMatchObject({ id: expect.stringMatching(/^we_/), secret: "whsec_right" });
    await stripe.customers.create({ name: "A" });
    await control("POST", "/_emulator/drain", {});
    expect(r.received).toHaveLength(1);
    const event = stripe.webhooks.constructEvent(r.received[0]!.body, r.received[0]!.signature, "whsec_right");
    expect(event).toMatchObject({ type: "customer.created", object: "event", livemode: false, api_version: expect.any(String) });
    expect(() => stripe.webhooks.constructEvent(r.received[0]!.body, r.received[0]!.signature, "whsec_wrong")).toThrow();
  });

  it("retries a non-2xx delivery on the schedule until it succeeds, and logs attempts", async () => {
    const { stripe, control } = await setup();
    const r = await receiver((_r, n) => (n === 1 ? 500 : n === 2 ? 302 : 200));
    cleanups.push(r.close);
    await control("POST", "/_emulator/webhook_endpoints", { url: r.url, secret: "whsec_x" });
    const c = await stripe.customers.create({ name: "A" });
    await control("POST", "/_emulator/drain", {});
    expect(r.received).toHaveLength(3);
    const [event] = (await stripe.events.list()).data;
    const log = await control("GET", `/_emulator/deliveries?event_id=${event!.id}`);
    expect(log.body.data.map((a: { status: number; ok: boolean }) => [a.status, a.ok])).toEqual([[500, false], [302, false], [200, true]]);
    expect(c.id).toMatch(/^cus_/);
    expect((await stripe.events.list({ delivery_success: false })).data).toHaveLength(0);
  });

  it("gives up after the schedule and lists the event as undelivered", async () => {
    const { stripe, control } = await setup();
    const r = await receiver(() => 503);
    cleanups.push(r.close);
    await control("POST", "/_emulator/webhook_endpoints", { url: r.url, secret: "whsec_x" });
    await stripe.customers.create({ name: "A" });
    await control("POST", "/_emulator/drain", {});
    expect(r.received).toHaveLength(3); // first try + 2 retries
    expect((await stripe.events.list({ delivery_success: false })).data).toHaveLength(1);
  });

  it("duplicates deliveries under chaos, and resends on request", async () => {
    const { stripe, control } = await setup();
    const r = await receiver();
    cleanups.push(r.close);
    await control("POST", "/_emulator/webhook_endpoints", { url: r.url, secret: "whsec_x" });
    await control("POST", "/_emulator/chaos", { duplicate: 3, reorder: true });
    await stripe.customers.create({ name: "A" });
    await control("POST", "/_emulator/drain", {});
    expect(r.received).toHaveLength(4);
    expect(new Set(r.received.map((x) => JSON.parse(x.body).id)).size).toBe(1);
    await control("POST", "/_emulator/chaos", {});
    const [event] = (await stripe.events.list()).data;
    await control("POST", `/_emulator/events/${event!.id}/resend`);
    await control("POST", "/_emulator/drain", {});
    expect(r.received).toHaveLength(5);
  });
});

describe("events, state and clock", () => {
  it("lists events newest first with type filters and pagination", async () => {
    const { stripe } = await setup();
    for (let i = 0; i < 5; i++) await stripe.customers.create({ name: `c${i}` });
    const page1 = await stripe.events.list({ limit: 2, type: "customer.created" });
    expect(page1.has_more).toBe(true);
    const page2 = await stripe.events.list({ limit: 2, type: "customer.created", starting_after: page1.data[1]!.id });
    const names = [...page1.data, ...page2.data].map((e) => (e.data.object as Stripe.Customer).name);
    expect(names).toEqual(["c4", "c3", "c2", "c1"]);
    const one = await stripe.events.retrieve(page1.data[0]!.id);
    expect(one.id).toBe(page1.data[0]!.id);
  });

  it("keeps objects, events and pending deliveries across a restart; the delivery completes after it", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "emu-"));
    const stateFile = path.join(dir, "state.json");
    const r = await receiver((_r, n) => (n === 1 ? 500 : 200));
    cleanups.push(r.close);
    const first = await emulatorWithSdk({ stateFile, retryScheduleMs: [1500] });
    await first.control("POST", "/_emulator/webhook_endpoints", { url: r.url, secret: "whsec_x" });
    const c = await first.stripe.customers.create({ name: "Persisted" });
    // Stop as soon as the first attempt has failed; its retry is due 1.5 s later.
    for (let i = 0; i < 200 && r.received.length === 0; i++) await new Promise((res) => setTimeout(res, 10));
    expect(r.received).toHaveLength(1);
    await first.emu.close();
    const saved = JSON.parse(fs.readFileSync(stateFile, "utf8"));
    expect(saved.outbox.filter((d: { state: string }) => d.state === "pending")).toHaveLength(1);

    const second = await emulatorWithSdk({ stateFile, retryScheduleMs: [1500] });
    cleanups.push(() => second.emu.close());
    expect(((await second.stripe.customers.retrieve(c.id)) as Stripe.Customer).name).toBe("Persisted");
    expect((await second.stripe.events.list()).data).toHaveLength(1);
    await second.control("POST", "/_emulator/drain", {});
    expect(r.received).toHaveLength(2);
    const event = second.stripe.webhooks.constructEvent(r.received[1]!.body, r.received[1]!.signature, "whsec_x");
    expect(event.type).toBe("customer.created");
  });

  it("advances the clock for everything created afterwards", async () => {
    const { stripe, control } = await setup();
    const before = await stripe.customers.create({ name: "before" });
    await control("POST", "/_emulator/clock/advance", { seconds: 86_400 });
    const after = await stripe.customers.create({ name: "after" });
    expect(after.created - before.created).toBeGreaterThanOrEqual(86_400);
    expect((await control("POST", "/_emulator/clock/advance", { seconds: -5 })).status).toBe(400);
  });

  it("resets everything", async () => {
    const { stripe, control } = await setup();
    await stripe.customers.create({ name: "x" });
    await control("POST", "/_emulator/reset");
    expect((await stripe.customers.list()).data).toHaveLength(0);
    expect((await stripe.events.list()).data).toHaveLength(0);
  });
});
