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
    // Basic auth with the key as user name (curl -u sk_test_…:) works as with Stripe.
    const basic = (key: string) => fetch(`${emu.url}/v1/customers`, { headers: { authorization: `Basic ${Buffer.from(`${key}:`).toString("base64")}` } });
    expect((await basic("sk_test_curl")).status).toBe(200);
    expect((await basic("sk_live_curl")).status).toBe(401);
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
    expect(done).toMatchObject({ status: "succeeded", amount_received: 4900 });
    const charge = await stripe.charges.retrieve(done.latest_charge as string);
    expect(charge).toMatchObject({ paid: true, amount: 4900, payment_intent: pi.id, status: "succeeded", payment_method: done.payment_method });
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

  it("refuses parameters the endpoint does not take (parameter_unknown), before doing anything", async () => {
    const { stripe } = await setup();
    const params = { amount: 1000, currency: "usd", colour: "red" } as Stripe.PaymentIntentCreateParams;
    const err = await stripe.paymentIntents.create(params, { idempotencyKey: "u-1" }).catch((e) => e);
    expect(err).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    expect(err).toMatchObject({ code: "parameter_unknown", param: "colour", message: "Received unknown parameter: colour" });
    await expect(stripe.customers.list({ nope: 1 } as Stripe.CustomerListParams)).rejects.toMatchObject({ code: "parameter_unknown", param: "nope" });
    expect((await stripe.paymentIntents.list()).data).toHaveLength(0);
    expect((await stripe.paymentIntents.create({ amount: 1000, currency: "usd" }, { idempotencyKey: "u-1" })).amount).toBe(1000);
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

  it("replays an error that came after a side effect (a decline), with its events once", async () => {
    const { stripe } = await setup();
    const pi = await stripe.paymentIntents.create({ amount: 1000, currency: "usd" });
    const e1 = await stripe.paymentIntents.confirm(pi.id, { payment_method: "pm_card_visa_chargeDeclined" }, { idempotencyKey: "c-1" }).catch((e) => e);
    const e2 = await stripe.paymentIntents.confirm(pi.id, { payment_method: "pm_card_visa_chargeDeclined" }, { idempotencyKey: "c-1" }).catch((e) => e);
    expect(e1).toBeInstanceOf(Stripe.errors.StripeCardError);
    expect(e2).toBeInstanceOf(Stripe.errors.StripeCardError);
    expect(e1.decline_code).toBe("generic_decline");
    expect(e2.decline_code).toBe("generic_decline");
    expect(e1.headers["idempotent-replayed"]).toBeUndefined();
    expect(e2.headers["idempotent-replayed"]).toBe("true");
    expect(e2.payment_intent.id).toBe(pi.id);
    expect((await stripe.events.list({ type: "payment_intent.payment_failed" })).data).toHaveLength(1);
    expect((await stripe.events.list({ type: "charge.failed" })).data).toHaveLength(1);
  });

  it("does not store a request refused by validation: a corrected retry with the same key runs", async () => {
    const { stripe } = await setup();
    const bad = await stripe.paymentIntents.create({ amount: 10, currency: "usd" }, { idempotencyKey: "v-1" }).catch((e) => e);
    expect(bad).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    expect(bad).toMatchObject({ code: "amount_too_small", param: "amount" });
    const good = await stripe.paymentIntents.create({ amount: 1000, currency: "usd" }, { idempotencyKey: "v-1" });
    expect(good).toMatchObject({ amount: 1000, status: "requires_payment_method" });
    expect(good.lastResponse.headers["idempotent-replayed"]).toBeUndefined();
    // From now on the key belongs to the request that ran.
    expect((await stripe.paymentIntents.create({ amount: 1000, currency: "usd" }, { idempotencyKey: "v-1" })).id).toBe(good.id);
    await expect(stripe.paymentIntents.create({ amount: 2000, currency: "usd" }, { idempotencyKey: "v-1" })).rejects.toBeInstanceOf(Stripe.errors.StripeIdempotencyError);
    // Unknown ids and wrong states are refused before anything happens, too.
    const missingPm = await stripe.paymentIntents.confirm(good.id, { payment_method: "pm_bogus" }, { idempotencyKey: "v-2" }).catch((e) => e);
    expect(missingPm).toMatchObject({ code: "resource_missing", param: "payment_method" });
    expect((await stripe.paymentIntents.confirm(good.id, { payment_method: "pm_card_visa" }, { idempotencyKey: "v-2" })).status).toBe("succeeded");
    expect((await stripe.paymentIntents.list()).data).toHaveLength(1);
  });

  it("answers 409 idempotency_key_in_use to a request whose key is held by one still in flight; the first one runs once", async () => {
    const { stripe, holdNext } = await setup();
    const held = await holdNext("POST", "^/v1/customers$", 1500);
    const first = stripe.customers.create({ name: "Race" }, { idempotencyKey: "race" });
    await held();
    const second = await stripe.customers.create({ name: "Race" }, { idempotencyKey: "race" }).catch((e) => e);
    // The SDK maps a 409 to StripeAPIError (a conflict it would retry, had it retries left).
    expect(second).toBeInstanceOf(Stripe.errors.StripeAPIError);
    expect(second).toMatchObject({ statusCode: 409, code: "idempotency_key_in_use", rawType: "invalid_request_error" });
    expect(second.message).toMatch(/another in-progress request using this Idempotent Key.*race/);
    const created = await first;
    const replay = await stripe.customers.create({ name: "Race" }, { idempotencyKey: "race" });
    expect(replay.id).toBe(created.id);
    expect(replay.lastResponse.headers["idempotent-replayed"]).toBe("true");
    expect((await stripe.customers.list({ limit: 100 })).data).toHaveLength(1);
    expect((await stripe.events.list({ type: "customer.created" })).data).toHaveLength(1);
  });

  it("the SDK retries the 409 with the same key and receives the first request's response", async () => {
    const { sdk, holdNext } = await setup();
    const retrying = sdk({ maxNetworkRetries: 2 });
    const held = await holdNext("POST", "^/v1/payment_intents$", 200);
    const first = retrying.paymentIntents.create({ amount: 1000, currency: "usd" }, { idempotencyKey: "pi-race" });
    await held();
    // The SDK's first retry waits at least 500 ms, after the held request has finished.
    const second = await retrying.paymentIntents.create({ amount: 1000, currency: "usd" }, { idempotencyKey: "pi-race" });
    expect(second.id).toBe((await first).id);
    expect(second.lastResponse.headers["idempotent-replayed"]).toBe("true");
    expect((await retrying.paymentIntents.list()).data).toHaveLength(1);
  });

  it("a response delayed after the work is done is replayed to a retry with the same key", async () => {
    const { stripe, holdNext } = await setup();
    const held = await holdNext("POST", "^/v1/customers$", 300, "after");
    const first = stripe.customers.create({ name: "Slow" }, { idempotencyKey: "slow" });
    await held();
    const retry = await stripe.customers.create({ name: "Slow" }, { idempotencyKey: "slow" });
    expect(retry.lastResponse.headers["idempotent-replayed"]).toBe("true");
    expect((await first).id).toBe(retry.id);
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

describe("currencies and amounts, as Stripe validates them", () => {
  it("normalises upper-case codes and refuses unknown ones", async () => {
    const { stripe } = await setup();
    expect((await stripe.paymentIntents.create({ amount: 1000, currency: "USD" })).currency).toBe("usd");
    const err = await stripe.paymentIntents.create({ amount: 1000, currency: "xyz" }).catch((e) => e);
    expect(err).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    expect(err).toMatchObject({ param: "currency" });
    expect(err.message).toMatch(/^Invalid currency: xyz\. Stripe currently supports these currencies: usd, aed/);
    await expect(stripe.paymentIntents.create({ amount: 1000, currency: "" })).rejects.toMatchObject({ param: "currency" });
    await expect(stripe.paymentIntents.create({ amount: 1000 } as Stripe.PaymentIntentCreateParams)).rejects.toMatchObject({ code: "parameter_missing", param: "currency" });
  });

  it.each([
    ["usd", 49, 50, "$0.50 usd"],
    ["eur", 49, 50, "€0.50 eur"],
    ["gbp", 29, 30, "£0.30 gbp"],
    ["jpy", 49, 50, "¥50 jpy"],
    ["chf", 49, 50, "CHF 0.50 chf"],
  ])("%s: %i is below the minimum charge, %i is accepted", async (currency, below, min, shown) => {
    const { stripe } = await setup();
    const err = await stripe.paymentIntents.create({ amount: below, currency }).catch((e) => e);
    expect(err).toMatchObject({ statusCode: 400, code: "amount_too_small", param: "amount" });
    expect(err.message).toBe(`Amount must be at least ${shown}`);
    expect(await stripe.paymentIntents.create({ amount: min, currency })).toMatchObject({ amount: min, currency });
  });

  it("JPY is zero-decimal: ¥1,000 is amount 1000; KWD is three-decimal (last digit 0)", async () => {
    const { stripe } = await setup();
    expect((await stripe.paymentIntents.create({ amount: 1000, currency: "jpy" })).amount).toBe(1000);
    await expect(stripe.paymentIntents.create({ amount: 1005, currency: "kwd" })).rejects.toMatchObject({ code: "invalid_charge_amount", param: "amount" });
    expect((await stripe.paymentIntents.create({ amount: 1000, currency: "kwd" })).amount).toBe(1000);
  });

  it("refuses non-integers, zero, negatives and more than eight digits", async () => {
    const { stripe } = await setup();
    await expect(stripe.paymentIntents.create({ amount: 10.5, currency: "usd" })).rejects.toMatchObject({ code: "parameter_invalid_integer", param: "amount" });
    await expect(stripe.paymentIntents.create({ amount: 0, currency: "usd" })).rejects.toMatchObject({ code: "parameter_invalid_integer", param: "amount" });
    await expect(stripe.paymentIntents.create({ amount: -500, currency: "usd" })).rejects.toMatchObject({ code: "parameter_invalid_integer", param: "amount" });
    const big = await stripe.paymentIntents.create({ amount: 100_000_000, currency: "usd" }).catch((e) => e);
    expect(big).toMatchObject({ code: "amount_too_large", param: "amount" });
    expect(big.message).toBe("Amount must be no more than $999,999.99 usd");
    expect((await stripe.paymentIntents.create({ amount: 99_999_999, currency: "usd" })).amount).toBe(99_999_999);
  });

  it("validates an update's amount against the intent's currency, and changes nothing when refused", async () => {
    const { stripe } = await setup();
    const pi = await stripe.paymentIntents.create({ amount: 5000, currency: "gbp" });
    await expect(stripe.paymentIntents.update(pi.id, { amount: 20 })).rejects.toMatchObject({ code: "amount_too_small" });
    expect((await stripe.paymentIntents.retrieve(pi.id)).amount).toBe(5000);
    expect((await stripe.paymentIntents.update(pi.id, { amount: 30 })).amount).toBe(30);
  });
});

describe("expand[]", () => {
  it("expands latest_charge, payment_method and customer on PaymentIntents; unexpanded fields stay ids", async () => {
    const { stripe } = await setup();
    const customer = await stripe.customers.create({ name: "E" });
    const pi = await stripe.paymentIntents.create({ amount: 2500, currency: "usd", customer: customer.id });
    const confirmed = await stripe.paymentIntents.confirm(pi.id, { payment_method: "pm_card_visa", expand: ["latest_charge", "payment_method"] });
    const charge = confirmed.latest_charge as Stripe.Charge;
    const pm = confirmed.payment_method as Stripe.PaymentMethod;
    expect(charge).toMatchObject({ object: "charge", amount: 2500, status: "succeeded", payment_intent: pi.id });
    expect(pm).toMatchObject({ object: "payment_method", card: { last4: "4242", brand: "visa" } });
    expect(confirmed.customer).toBe(customer.id);

    const plain = await stripe.paymentIntents.retrieve(pi.id);
    expect(plain.latest_charge).toBe(charge.id);
    expect(plain.payment_method).toBe(pm.id);

    const all = await stripe.paymentIntents.retrieve(pi.id, { expand: ["customer", "latest_charge.payment_intent"] });
    expect(all.customer).toMatchObject({ object: "customer", id: customer.id, name: "E" });
    expect(((all.latest_charge as Stripe.Charge).payment_intent as Stripe.PaymentIntent).id).toBe(pi.id);
  });

  it("expands data.* on lists, and refuses what cannot be expanded", async () => {
    const { stripe } = await setup();
    await stripe.paymentIntents.create({ amount: 1000, currency: "usd", payment_method: "pm_card_visa", confirm: true });
    await stripe.paymentIntents.create({ amount: 1000, currency: "usd" });
    const list = await stripe.paymentIntents.list({ expand: ["data.latest_charge"] });
    expect(list.data.map((p) => (p.latest_charge === null ? null : (p.latest_charge as Stripe.Charge).object))).toEqual([null, "charge"]);
    await expect(stripe.paymentIntents.list({ expand: ["data.nope"] })).rejects.toMatchObject({ message: "This property cannot be expanded (data.nope)." });
    const [first] = list.data;
    await expect(stripe.paymentIntents.retrieve(first!.id, { expand: ["amount"] })).rejects.toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
  });

  it("checks expand paths before the request runs: a bad one on create creates nothing", async () => {
    const { stripe } = await setup();
    const err = await stripe.paymentIntents.create({ amount: 1000, currency: "usd", expand: ["latest_charge.nope"] }, { idempotencyKey: "x-1" }).catch((e) => e);
    expect(err).toMatchObject({ statusCode: 400, message: "This property cannot be expanded (latest_charge.nope)." });
    expect((await stripe.paymentIntents.list()).data).toHaveLength(0);
    expect((await stripe.events.list()).data).toHaveLength(0);
    const ok = await stripe.paymentIntents.create({ amount: 1000, currency: "usd", customer: (await stripe.customers.create({})).id, expand: ["customer"] }, { idempotencyKey: "x-1" });
    expect(ok.customer).toMatchObject({ object: "customer" });
  });
});

describe("test payment methods become new PaymentMethods", () => {
  it("confirming with pm_card_visa attaches a fresh pm_… whose card matches; each use makes another", async () => {
    const { stripe } = await setup();
    const a = await stripe.paymentIntents.confirm((await stripe.paymentIntents.create({ amount: 1000, currency: "usd" })).id, { payment_method: "pm_card_visa" });
    const b = await stripe.paymentIntents.create({ amount: 1000, currency: "usd", payment_method: "pm_card_visa" });
    expect(b.status).toBe("requires_confirmation");
    for (const id of [a.payment_method, b.payment_method]) {
      expect(id).toMatch(/^pm_[A-Za-z0-9]{24}$/);
      expect(id).not.toBe("pm_card_visa");
    }
    expect(a.payment_method).not.toBe(b.payment_method);
    const pmA = await stripe.paymentMethods.retrieve(a.payment_method as string);
    const pmB = await stripe.paymentMethods.retrieve(b.payment_method as string);
    expect(pmA).toMatchObject({ object: "payment_method", type: "card", card: { brand: "visa", last4: "4242", exp_year: 2034 } });
    expect(pmA.card!.fingerprint).toBe(pmB.card!.fingerprint);
    // Confirming with the intent's own PaymentMethod uses it, without making another.
    const done = await stripe.paymentIntents.confirm(b.id);
    expect(done).toMatchObject({ status: "succeeded", payment_method: b.payment_method });
    expect((await stripe.charges.retrieve(done.latest_charge as string)).payment_method).toBe(b.payment_method);
  });

  it("a decline reports the new PaymentMethod in last_payment_error and leaves payment_method empty", async () => {
    const { stripe } = await setup();
    const pi = await stripe.paymentIntents.create({ amount: 1000, currency: "usd" });
    const err = await stripe.paymentIntents.confirm(pi.id, { payment_method: "pm_card_visa_chargeDeclinedInsufficientFunds" }).catch((e) => e);
    expect(err.payment_method.id).toMatch(/^pm_[A-Za-z0-9]{24}$/);
    const after = await stripe.paymentIntents.retrieve(pi.id);
    expect(after.payment_method).toBeNull();
    expect(after.last_payment_error!.payment_method).toMatchObject({ id: err.payment_method.id, card: { last4: "9995" } });
    expect((await stripe.charges.retrieve(after.latest_charge as string)).payment_method).toBe(err.payment_method.id);
  });
});

describe("API versions of events", () => {
  it("events carry the account's API version, not the triggering request's Stripe-Version", async () => {
    const { sdk, stripe, control } = await setup();
    const old = sdk({ apiVersion: "2024-06-20" as Stripe.StripeConfig["apiVersion"] });
    const c = await old.customers.create({ name: "Pinned" });
    expect(c.lastResponse.apiVersion).toBe("2024-06-20");
    const [event] = (await stripe.events.list()).data;
    expect(event!.api_version).toBe(Stripe.API_VERSION);
    expect((await control("GET", "/_emulator/account")).body.api_version).toBe(Stripe.API_VERSION);
    await control("POST", "/_emulator/account", { api_version: "2025-03-31.basil" });
    await old.customers.create({ name: "Later" });
    expect((await stripe.events.list({ limit: 1 })).data[0]!.api_version).toBe("2025-03-31.basil");
  });

  it("a webhook endpoint registered with an api_version gets its deliveries labelled with it", async () => {
    const { stripe, control } = await setup();
    const plain = await receiver();
    const pinned = await receiver();
    cleanups.push(plain.close, pinned.close);
    await control("POST", "/_emulator/webhook_endpoints", { url: plain.url, secret: "whsec_a" });
    const ep = await control("POST", "/_emulator/webhook_endpoints", { url: pinned.url, secret: "whsec_b", api_version: "2025-03-31.basil" });
    expect(ep.body.api_version).toBe("2025-03-31.basil");
    expect((await control("POST", "/_emulator/webhook_endpoints", { url: "http://x.test/", api_version: "yesterday" })).status).toBe(400);
    await stripe.customers.create({ name: "A" });
    await control("POST", "/_emulator/drain", {});
    expect(stripe.webhooks.constructEvent(plain.received[0]!.body, plain.received[0]!.signature, "whsec_a").api_version).toBe(Stripe.API_VERSION);
    expect(stripe.webhooks.constructEvent(pinned.received[0]!.body, pinned.received[0]!.signature, "whsec_b").api_version).toBe("2025-03-31.basil");
  });
});

describe("payments that settle later (processing)", () => {
  const types = async (stripe: Stripe) => (await stripe.events.list({ limit: 100 })).data.map((e) => e.type).reverse();

  it("pm_card_processing_succeeds: processing with a pending charge, then succeeded when the clock passes the delay", async () => {
    const { stripe, control } = await setup();
    await control("POST", "/_emulator/processing", { delaySeconds: 3600 });
    const pi = await stripe.paymentIntents.create({ amount: 3000, currency: "usd" });
    const processing = await stripe.paymentIntents.confirm(pi.id, { payment_method: "pm_card_processing_succeeds" });
    expect(processing).toMatchObject({ status: "processing", amount_received: 0, payment_method: expect.stringMatching(/^pm_/) });
    expect(await stripe.charges.retrieve(processing.latest_charge as string)).toMatchObject({ status: "pending", paid: false });
    await expect(stripe.paymentIntents.cancel(pi.id)).rejects.toMatchObject({ code: "payment_intent_unexpected_state" });
    await expect(stripe.paymentIntents.confirm(pi.id, { payment_method: "pm_card_visa" })).rejects.toMatchObject({ code: "payment_intent_unexpected_state" });
    expect((await control("GET", "/_emulator/scheduled")).body.data).toMatchObject([{ kind: "settle_processing", paymentIntent: pi.id, outcome: "succeed" }]);

    expect((await control("POST", "/_emulator/clock/advance", { seconds: 1800 })).body.ran).toBe(0);
    expect((await stripe.paymentIntents.retrieve(pi.id)).status).toBe("processing");
    expect((await control("POST", "/_emulator/clock/advance", { seconds: 1801 })).body.ran).toBe(1);
    const done = await stripe.paymentIntents.retrieve(pi.id, { expand: ["latest_charge"] });
    expect(done).toMatchObject({ status: "succeeded", amount_received: 3000, processing: null, latest_charge: { id: processing.latest_charge, status: "succeeded", paid: true } });
    expect(await types(stripe)).toEqual(["payment_intent.created", "charge.pending", "payment_intent.processing", "charge.succeeded", "payment_intent.succeeded"]);
    const [succeeded] = (await stripe.events.list({ type: "payment_intent.succeeded" })).data;
    expect(succeeded!.request).toEqual({ id: null, idempotency_key: null });
  });

  it("pm_card_processing_fails: processing, then payment_failed with a decline", async () => {
    const { stripe, control } = await setup();
    await control("POST", "/_emulator/processing", { delaySeconds: 60 });
    const pi = await stripe.paymentIntents.create({ amount: 3000, currency: "usd", payment_method: "pm_card_processing_fails", confirm: true });
    expect(pi.status).toBe("processing");
    await control("POST", "/_emulator/clock/advance", { seconds: 61 });
    const failed = await stripe.paymentIntents.retrieve(pi.id);
    expect(failed).toMatchObject({ status: "requires_payment_method", payment_method: null, last_payment_error: { type: "card_error", code: "card_declined", decline_code: "generic_decline" } });
    expect((await stripe.charges.retrieve(failed.latest_charge as string)).status).toBe("failed");
    expect(await types(stripe)).toEqual(["payment_intent.created", "charge.pending", "payment_intent.processing", "charge.failed", "payment_intent.payment_failed"]);
    // The intent can be paid again with another method.
    expect((await stripe.paymentIntents.confirm(pi.id, { payment_method: "pm_card_visa" })).status).toBe("succeeded");
  });

  it("settles at once through the control surface, with the scheduled outcome or another one", async () => {
    const { stripe, control } = await setup();
    await control("POST", "/_emulator/processing", { delaySeconds: 3600 });
    const a = await stripe.paymentIntents.create({ amount: 1000, currency: "usd", payment_method: "pm_card_processing_succeeds", confirm: true });
    const b = await stripe.paymentIntents.create({ amount: 1000, currency: "usd", payment_method: "pm_card_processing_succeeds", confirm: true });
    expect((await control("POST", `/_emulator/payment_intents/${a.id}/settle`, {})).body.status).toBe("succeeded");
    expect((await control("POST", `/_emulator/payment_intents/${b.id}/settle`, { outcome: "fail" })).body.status).toBe("requires_payment_method");
    expect((await control("GET", "/_emulator/scheduled")).body.data).toEqual([]);
    expect((await control("POST", `/_emulator/payment_intents/${a.id}/settle`, {})).status).toBe(400);
  });

  it("settles by itself after a short real-time delay", async () => {
    const { stripe, control } = await setup();
    await control("POST", "/_emulator/processing", { delaySeconds: 0.05 });
    const pi = await stripe.paymentIntents.create({ amount: 1000, currency: "usd", payment_method: "pm_card_processing_succeeds", confirm: true });
    expect(pi.status).toBe("processing");
    let status = pi.status;
    for (let i = 0; i < 200 && status === "processing"; i++) {
      await new Promise((r) => setTimeout(r, 10));
      status = (await stripe.paymentIntents.retrieve(pi.id)).status;
    }
    expect(status).toBe("succeeded");
  });

  it("a processing event whose delivery failed arrives after the success (out of order, as with Stripe)", async () => {
    const { stripe, control } = await setup({ retryScheduleMs: [1500] });
    let processingAttempts = 0;
    const r = await receiver((x) => (x.type === "payment_intent.processing" && processingAttempts++ === 0 ? 500 : 200));
    cleanups.push(r.close);
    await control("POST", "/_emulator/webhook_endpoints", { url: r.url, secret: "whsec_x" });
    await control("POST", "/_emulator/processing", { delaySeconds: 3600 });
    const pi = await stripe.paymentIntents.create({ amount: 1000, currency: "usd", payment_method: "pm_card_processing_succeeds", confirm: true });
    await control("POST", `/_emulator/payment_intents/${pi.id}/settle`, {});
    await control("POST", "/_emulator/drain", {});
    const got = r.received.map((x) => x.type);
    expect(got.filter((t) => t === "payment_intent.processing")).toHaveLength(2);
    expect(got.lastIndexOf("payment_intent.processing")).toBeGreaterThan(got.indexOf("payment_intent.succeeded"));
  });

  it("a scheduled settlement survives a restart", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "emu-"));
    const stateFile = path.join(dir, "state.json");
    const first = await emulatorWithSdk({ stateFile });
    await first.control("POST", "/_emulator/processing", { delaySeconds: 3600 });
    const pi = await first.stripe.paymentIntents.create({ amount: 1000, currency: "usd", payment_method: "pm_card_processing_fails", confirm: true });
    await first.emu.close();
    const second = await emulatorWithSdk({ stateFile });
    cleanups.push(() => second.emu.close());
    expect((await second.stripe.paymentIntents.retrieve(pi.id)).status).toBe("processing");
    await second.control("POST", "/_emulator/clock/advance", { seconds: 3601 });
    expect((await second.stripe.paymentIntents.retrieve(pi.id)).status).toBe("requires_payment_method");
  });
});
