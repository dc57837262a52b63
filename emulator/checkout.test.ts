// Checkout Sessions on the emulator through the real stripe SDK: a pack bought in payment mode
// (metadata carried to the PaymentIntent, a decline leaves the session open, success redirects
// with {CHECKOUT_SESSION_ID} replaced), a plan started in subscription mode (subscription active,
// first invoice paid), an async payment (completed unpaid, then async_payment_succeeded), expiry,
// and parameter validation.
import { afterEach, describe, expect, it } from "vitest";
import type Stripe from "stripe";
import { emulatorWithSdk } from "./test-helpers";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function setup() {
  const h = await emulatorWithSdk();
  cleanups.push(() => h.emu.close());
  const events = async () => {
    const out: Stripe.Event[] = [];
    for await (const e of h.stripe.events.list({ limit: 100 })) out.push(e);
    return out.reverse();
  };
  /** Submits the hosted page's form with a test card; returns the response (redirects not followed). */
  const payOnPage = (url: string, card: string) =>
    fetch(url, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: `payment_method=${card}`, redirect: "manual" });
  return { ...h, events, payOnPage };
}

const packSession = (stripe: Stripe, extra: Partial<Stripe.Checkout.SessionCreateParams> = {}) =>
  stripe.checkout.sessions.create({
    mode: "payment",
    line_items: [{ quantity: 1, price_data: { currency: "usd", unit_amount: 4900, product_data: { name: "Starter pack" } } }],
    success_url: "https://app.example/orgs/acme/billing/purchases/p1?session_id={CHECKOUT_SESSION_ID}",
    cancel_url: "https://app.example/orgs/acme/billing/top-up",
    client_reference_id: "purchase-1",
    metadata: { purchase_id: "purchase-1" },
    payment_intent_data: { metadata: { purchase_id: "purchase-1", org_id: "org-1" } },
    ...extra,
  });

describe("checkout sessions: payment mode", () => {
  it("serves a hosted page; a decline keeps it open; a card pays it, completes it and redirects to success_url", async () => {
    const { stripe, events, payOnPage } = await setup();
    const customer = await stripe.customers.create({ name: "Acme" });
    const session = await packSession(stripe, { customer: customer.id });
    expect(session).toMatchObject({ object: "checkout.session", mode: "payment", status: "open", payment_status: "unpaid", amount_total: 4900, currency: "usd", client_reference_id: "purchase-1", payment_intent: null });
    expect(session.url).toMatch(/\/c\/pay\/cs_test_/);

    const page = await fetch(session.url!);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain("pm_card_visa");
    expect(html).toContain("49.00 USD");

    const declined = await payOnPage(session.url!, "pm_card_visa_chargeDeclined");
    expect(declined.status).toBe(402);
    expect(await declined.text()).toContain("declined");
    const stillOpen = await stripe.checkout.sessions.retrieve(session.id);
    expect(stillOpen.status).toBe("open");

    const paid = await payOnPage(session.url!, "pm_card_visa");
    expect(paid.status).toBe(303);
    expect(paid.headers.get("location")).toBe(`https://app.example/orgs/acme/billing/purchases/p1?session_id=${session.id}`);

    const done = await stripe.checkout.sessions.retrieve(session.id, { expand: ["payment_intent"] });
    expect(done).toMatchObject({ status: "complete", payment_status: "paid", url: null });
    const pi = done.payment_intent as Stripe.PaymentIntent;
    expect(pi).toMatchObject({ status: "succeeded", amount: 4900, currency: "usd", customer: customer.id, metadata: { purchase_id: "purchase-1", org_id: "org-1" } });

    const types = (await events()).map((e) => e.type);
    expect(types).toContain("payment_intent.succeeded");
    expect(types.filter((t) => t === "checkout.session.completed")).toHaveLength(1);
    expect(types.indexOf("checkout.session.completed")).toBeGreaterThan(types.indexOf("payment_intent.succeeded"));
    const completed = (await events()).find((e) => e.type === "checkout.session.completed")!.data.object as Stripe.Checkout.Session;
    expect(completed).toMatchObject({ id: session.id, payment_intent: pi.id, metadata: { purchase_id: "purchase-1" } });

    // A paid session is never paid again: the page redirects, nothing new is charged.
    const again = await payOnPage(session.url!.replace(/\?.*/, ""), "pm_card_visa");
    expect(again.status).toBe(303);
    expect((await stripe.paymentIntents.list()).data).toHaveLength(1);
  });

  it("an async payment completes the session unpaid, then emits async_payment_succeeded when it settles", async () => {
    const { stripe, events, payOnPage, control } = await setup();
    const session = await packSession(stripe);
    expect((await payOnPage(session.url!, "pm_card_processing_succeeds")).status).toBe(303);
    const completed = await stripe.checkout.sessions.retrieve(session.id);
    expect(completed).toMatchObject({ status: "complete", payment_status: "unpaid" });
    expect((await control("POST", `/_emulator/payment_intents/${completed.payment_intent}/settle`, {})).status).toBe(200);
    const after = await stripe.checkout.sessions.retrieve(session.id);
    expect(after.payment_status).toBe("paid");
    const all = await events();
    const async = all.filter((e) => e.type === "checkout.session.async_payment_succeeded");
    expect(async).toHaveLength(1);
    expect((async[0]!.data.object as Stripe.Checkout.Session).payment_status).toBe("paid");
    expect(all.findIndex((e) => e.type === "checkout.session.completed")).toBeLessThan(all.findIndex((e) => e.type === "checkout.session.async_payment_succeeded"));
  });

  it("expire: an open session expires (event, page gone); a second expire is refused", async () => {
    const { stripe, events, payOnPage } = await setup();
    const session = await packSession(stripe);
    const expired = await stripe.checkout.sessions.expire(session.id);
    expect(expired).toMatchObject({ status: "expired", url: null });
    await expect(stripe.checkout.sessions.expire(session.id)).rejects.toMatchObject({ type: "StripeInvalidRequestError" });
    expect((await payOnPage(session.url!, "pm_card_visa")).status).toBe(410);
    expect((await events()).map((e) => e.type)).toContain("checkout.session.expired");
    expect((await stripe.paymentIntents.list()).data).toHaveLength(0);
  });

  it("validates parameters before writing anything", async () => {
    const { stripe } = await setup();
    const product = await stripe.products.create({ name: "Plan" });
    const recurring = await stripe.prices.create({ product: product.id, currency: "usd", unit_amount: 2900, recurring: { interval: "month" } });
    await expect(stripe.checkout.sessions.create({ success_url: "https://x.example/ok", line_items: [{ price: recurring.id, quantity: 1 }] } as Stripe.Checkout.SessionCreateParams)).rejects.toMatchObject({ code: "parameter_missing", param: "mode" });
    await expect(stripe.checkout.sessions.create({ mode: "payment", success_url: "https://x.example/ok", line_items: [{ price: recurring.id, quantity: 1 }] })).rejects.toMatchObject({ param: "line_items[0][price]" });
    await expect(stripe.checkout.sessions.create({ mode: "payment", success_url: "https://x.example/ok" })).rejects.toMatchObject({ code: "parameter_missing", param: "line_items" });
    await expect(stripe.checkout.sessions.create({ mode: "payment", success_url: "https://x.example/ok", customer: "cus_missing", line_items: [{ quantity: 1, price_data: { currency: "usd", unit_amount: 100, product_data: { name: "x" } } }] })).rejects.toMatchObject({ code: "resource_missing" });
    await expect(packSession(stripe, { foo: "bar" } as never)).rejects.toMatchObject({ code: "parameter_unknown" });
    await expect(stripe.checkout.sessions.retrieve("cs_test_missing")).rejects.toMatchObject({ code: "resource_missing" });
  });

  it("is idempotent by key: a retried create returns the same session", async () => {
    const { stripe } = await setup();
    const params: Stripe.Checkout.SessionCreateParams = { mode: "payment", success_url: "https://x.example/ok", line_items: [{ quantity: 2, price_data: { currency: "usd", unit_amount: 500, product_data: { name: "x" } } }] };
    const a = await stripe.checkout.sessions.create(params, { idempotencyKey: "purchase:1:checkout" });
    const b = await stripe.checkout.sessions.create(params, { idempotencyKey: "purchase:1:checkout" });
    expect(b.id).toBe(a.id);
    expect(a.amount_total).toBe(1000);
  });
});

describe("checkout sessions: subscription mode", () => {
  it("paying creates the subscription with its first invoice paid, with subscription_data metadata; a declined card creates none", async () => {
    const { stripe, events, payOnPage } = await setup();
    const product = await stripe.products.create({ name: "Growth" });
    const price = await stripe.prices.create({ product: product.id, currency: "usd", unit_amount: 9900, recurring: { interval: "month" } });
    const customer = await stripe.customers.create({ name: "Acme" });
    const session = await stripe.checkout.sessions.create({
      mode: "subscription",
      customer: customer.id,
      line_items: [{ price: price.id, quantity: 1 }],
      success_url: "https://app.example/plan?session_id={CHECKOUT_SESSION_ID}",
      client_reference_id: "row-1",
      subscription_data: { metadata: { subscription_row_id: "row-1", org_id: "org-1" } },
    });
    expect(session).toMatchObject({ mode: "subscription", status: "open", amount_total: 9900, subscription: null });
    expect(await (await fetch(session.url!)).text()).not.toContain("pm_card_processing_succeeds");

    expect((await payOnPage(session.url!, "pm_card_visa_chargeDeclined")).status).toBe(402);
    expect((await stripe.subscriptions.list({ customer: customer.id, status: "all" })).data).toHaveLength(0);

    const res = await payOnPage(session.url!, "pm_card_visa");
    expect(res.headers.get("location")).toBe(`https://app.example/plan?session_id=${session.id}`);
    const done = await stripe.checkout.sessions.retrieve(session.id, { expand: ["subscription", "invoice"] });
    expect(done).toMatchObject({ status: "complete", payment_status: "paid" });
    const sub = done.subscription as Stripe.Subscription;
    expect(sub).toMatchObject({ status: "active", customer: customer.id, metadata: { subscription_row_id: "row-1", org_id: "org-1" } });
    expect(done.invoice).toMatchObject({ status: "paid", amount_paid: 9900 });

    const types = (await events()).map((e) => e.type);
    for (const t of ["customer.subscription.created", "invoice.paid", "checkout.session.completed"]) expect(types).toContain(t);
    expect(types.lastIndexOf("checkout.session.completed")).toBeGreaterThan(types.indexOf("invoice.paid"));
  });

  it("a trial completes with no payment required", async () => {
    const { stripe, payOnPage } = await setup();
    const product = await stripe.products.create({ name: "Starter" });
    const price = await stripe.prices.create({ product: product.id, currency: "usd", unit_amount: 2900, recurring: { interval: "month" } });
    const session = await stripe.checkout.sessions.create({ mode: "subscription", line_items: [{ price: price.id, quantity: 1 }], success_url: "https://x.example/ok", subscription_data: { trial_period_days: 14 } });
    await payOnPage(session.url!, "pm_card_visa");
    const done = await stripe.checkout.sessions.retrieve(session.id, { expand: ["subscription"] });
    expect(done).toMatchObject({ status: "complete", payment_status: "no_payment_required" });
    expect((done.subscription as Stripe.Subscription).status).toBe("trialing");
    expect(done.customer).toMatch(/^cus_/);
  });
});
