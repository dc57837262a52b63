// Checkout Sessions (Stripe Checkout, hosted): create (mode `payment` with line_items by price or
// price_data, or mode `subscription` with recurring prices), retrieve, expire; and the hosted
// page at the session's `url` (/c/pay/<id>) offering test cards. Paying goes through the same code
// as the API, so it emits what Stripe would: payment mode creates and confirms a PaymentIntent
// (payment_intent_data.metadata carried over; payment_intent.* and charge.* events), subscription
// mode attaches the card and creates the subscription whose first invoice is paid
// (customer.subscription.*, invoice.*), then the session completes (`checkout.session.completed`)
// and the page redirects to success_url with {CHECKOUT_SESSION_ID} replaced. A card that settles
// later (pm_card_processing_succeeds / _fails) completes the session `unpaid`; when the payment
// settles, `checkout.session.async_payment_succeeded` (or `_failed`) follows.
// Invariants: a session is paid at most once (only `open` sessions take a payment); a declined
// card leaves it open (the customer may try another card) and creates no subscription.
import type Stripe from "stripe";
import { parseChargeAmount, parseCurrency } from "../currencies";
import { ApiError, invalidInteger, invalidRequest, missing, parameterMissing } from "../errors";
import { int, metadata, parseParams, str } from "../form";
import { newId } from "../ids";
import type { Json } from "../store";
import { customerJson, emitJson, publicUrl, type BillingDeps } from "../billing/env";
import { accepts } from "../params";
import type { Ctx, Route } from "./context";
import { customerRoutes } from "./customers";
import { paymentIntentRoutes } from "./payment-intents";
import { attachPaymentMethod } from "./payment-method-attach";
import { TEST_CARDS } from "./payment-methods";
import { subscriptionRoutes } from "./subscriptions";
import type { PageResult } from "./billing-portal";
import type { Wire } from "./wire";

const ACCEPTS = {
  create: accepts<Stripe.Checkout.SessionCreateParams>()([
    "adaptive_pricing", "after_expiration", "allow_promotion_codes", "allowed_payment_method_types", "automatic_tax",
    "billing_address_collection", "branding_settings", "cancel_url", "client_reference_id", "consent_collection", "currency",
    "custom_fields", "custom_text", "customer", "customer_account", "customer_creation", "customer_email", "customer_update",
    "discounts", "excluded_payment_method_types", "expand", "expires_at", "integration_identifier", "invoice_creation",
    "line_items", "locale", "managed_payments", "metadata", "mode", "name_collection", "optional_items", "origin_context",
    "payment_intent_data", "payment_method_collection", "payment_method_configuration", "payment_method_data",
    "payment_method_options", "permissions", "phone_number_collection", "redirect_on_completion", "return_url",
    "saved_payment_method_options", "setup_intent_data", "shipping_address_collection", "shipping_options", "submit_type",
    "subscription_data", "success_url", "tax_id_collection", "ui_mode", "wallet_options",
  ]),
  retrieve: accepts<Stripe.Checkout.SessionRetrieveParams>()(["expand"]),
  expire: accepts<Stripe.Checkout.SessionExpireParams>()(["expand"]),
};

/** The cards the hosted page offers (subscription mode: only those that attach to a customer). */
const PAGE_CARDS: { id: string; label: string; modes: Stripe.Checkout.Session.Mode[] }[] = [
  { id: "pm_card_visa", label: "Visa — payment succeeds", modes: ["payment", "subscription"] },
  { id: "pm_card_visa_chargeDeclined", label: "Declined card", modes: ["payment", "subscription"] },
  { id: "pm_card_processing_succeeds", label: "Bank payment — succeeds later (async)", modes: ["payment"] },
];

/** What the session sells, kept beside it (Stripe returns line_items only through their own list). */
type Line = { price: string | null; name: string; unitAmount: number; currency: string; quantity: number };

const notEmulated = (what: string) => invalidRequest(`${what} is not supported by the Stripe emulator.`, { code: "emulator_unsupported" });

function getSession(deps: Pick<BillingDeps, "store">, id: string): Json {
  const s = deps.store.state.checkoutSessions[id];
  if (!s) throw missing("checkout.session", id);
  return s;
}

function parseLines(ctx: Ctx, raw: unknown, mode: "payment" | "subscription"): Line[] {
  if (raw === undefined) throw parameterMissing("line_items");
  const list = (Array.isArray(raw) ? raw : Object.values(raw as object)) as Json[];
  if (list.length === 0) throw parameterMissing("line_items");
  return list.map((r, i) => {
    const priceId = str(r.price);
    const metered = priceId ? (ctx.store.state.prices[priceId]?.recurring as Json | null | undefined)?.usage_type === "metered" : false;
    // A metered price is billed from its meter in arrears: Stripe wants no quantity for it, and it
    // adds nothing to the amount paid at checkout (quantity 0 here).
    if (metered && r.quantity !== undefined) throw invalidRequest("Quantity should not be specified where usage_type is `metered`. Remove quantity from `line_items[" + i + "]`.", { param: `line_items[${i}][quantity]` });
    const quantity = metered ? 0 : int(r.quantity);
    if (quantity === undefined) throw parameterMissing(`line_items[${i}][quantity]`);
    if (Number.isNaN(quantity) || (!metered && quantity < 1)) throw invalidInteger(`line_items[${i}][quantity]`, r.quantity);
    if (priceId) {
      const price = ctx.store.state.prices[priceId];
      if (!price) throw missing("price", priceId, `line_items[${i}][price]`);
      const recurring = Boolean(price.recurring);
      if (mode === "subscription" && !recurring) throw invalidRequest("You must provide at least one recurring price in `subscription` mode when using prices.", { param: `line_items[${i}][price]` });
      if (mode === "payment" && recurring) throw invalidRequest("You specified `payment` mode but passed a recurring price. Either switch to `subscription` mode or use only one-time prices.", { param: `line_items[${i}][price]` });
      const product = ctx.store.state.products[price.product as string];
      return { price: priceId, name: String(product?.name ?? price.product), unitAmount: Number(price.unit_amount), currency: String(price.currency), quantity };
    }
    const pd = r.price_data as Json | undefined;
    if (!pd) throw parameterMissing(`line_items[${i}][price]`);
    if (mode === "subscription") throw notEmulated("price_data in subscription mode");
    const currency = parseCurrency(pd.currency);
    const unitAmount = parseChargeAmount(pd.unit_amount, currency);
    const name = str((pd.product_data as Json | undefined)?.name);
    if (!name) throw parameterMissing(`line_items[${i}][price_data][product_data][name]`);
    return { price: null, name, unitAmount, currency, quantity };
  });
}

function httpUrl(v: unknown, param: string): string | null {
  const u = str(v);
  if (u === undefined) return null;
  if (!/^https?:\/\//.test(u)) throw invalidRequest(`Not a valid URL`, { param });
  return u;
}

function create(ctx: Ctx): Json {
  const p = ctx.params;
  const mode = str(p.mode);
  if (!mode) throw parameterMissing("mode");
  if (mode === "setup") throw notEmulated("mode=setup");
  if (mode !== "payment" && mode !== "subscription") throw invalidRequest(`Invalid mode: must be one of payment, setup, or subscription`, { param: "mode" });
  const uiMode = str(p.ui_mode) ?? "hosted_page";
  if (uiMode !== "hosted_page" && uiMode !== "hosted") throw notEmulated(`ui_mode=${uiMode}`);
  const successUrl = httpUrl(p.success_url, "success_url");
  if (!successUrl) throw parameterMissing("success_url");
  const cancelUrl = httpUrl(p.cancel_url, "cancel_url");
  const customer = str(p.customer) ?? null;
  if (customer && !customerJson(ctx.store, customer)) throw missing("customer", customer, "customer");
  if (p.payment_intent_data !== undefined && mode !== "payment") throw invalidRequest("You can not pass `payment_intent_data` in `subscription` mode.", { param: "payment_intent_data" });
  if (p.subscription_data !== undefined && mode !== "subscription") throw invalidRequest("You can only pass `subscription_data` in `subscription` mode.", { param: "subscription_data" });
  const lines = parseLines(ctx, p.line_items, mode);
  const currency = lines[0]!.currency;
  if (lines.some((l) => l.currency !== currency)) throw invalidRequest("All line items must have the same currency.", { param: "line_items" });
  const sd = (p.subscription_data as Json | undefined) ?? {};
  if (sd.trial_period_days !== undefined) {
    const d = int(sd.trial_period_days);
    if (d === undefined || Number.isNaN(d) || d < 1 || d > 730) throw invalidInteger("subscription_data[trial_period_days]", sd.trial_period_days);
  }
  const ref = str(p.client_reference_id) ?? null;
  if (ref !== null && (ref.length === 0 || ref.length > 200)) throw invalidRequest("client_reference_id must be 1 to 200 characters.", { param: "client_reference_id" });
  const now = ctx.clock.now();
  let expiresAt = now + 24 * 60 * 60;
  if (p.expires_at !== undefined) {
    const t = int(p.expires_at);
    if (t === undefined || Number.isNaN(t) || t < now + 30 * 60 || t > now + 24 * 60 * 60) throw invalidRequest("The `expires_at` timestamp must be between 30 minutes and 24 hours from Checkout Session creation.", { param: "expires_at" });
    expiresAt = t;
  }
  const total = lines.reduce((s, l) => s + l.unitAmount * l.quantity, 0);
  const id = `cs_test_${newId("x").slice(2)}${newId("x").slice(2)}`;
  const session = {
    id,
    object: "checkout.session",
    adaptive_pricing: null,
    after_expiration: null,
    allow_promotion_codes: null,
    allowed_payment_method_types: null,
    amount_subtotal: total,
    amount_total: total,
    automatic_tax: { enabled: false, liability: null, provider: null, status: null },
    billing_address_collection: null,
    cancel_url: cancelUrl,
    client_reference_id: ref,
    client_secret: null,
    collected_information: null,
    consent: null,
    consent_collection: null,
    created: now,
    currency,
    currency_conversion: null,
    custom_fields: [],
    custom_text: { after_submit: null, shipping_address: null, submit: null, terms_of_service_acceptance: null },
    customer,
    customer_account: null,
    customer_creation: customer ? null : mode === "payment" ? "if_required" : "always",
    customer_details: null,
    customer_email: str(p.customer_email) ?? null,
    discounts: [],
    expires_at: expiresAt,
    integration_identifier: null,
    invoice: null as string | null,
    invoice_creation: null,
    livemode: false,
    locale: null,
    managed_payments: null,
    metadata: metadata(p.metadata),
    mode,
    origin_context: null,
    payment_intent: null as string | null,
    payment_link: null,
    payment_method_collection: mode === "subscription" ? "always" : null,
    payment_method_configuration_details: null,
    payment_method_options: {},
    payment_method_types: ["card"],
    payment_status: "unpaid" as Stripe.Checkout.Session.PaymentStatus,
    permissions: null,
    recovered_from: null,
    saved_payment_method_options: null,
    setup_intent: null,
    shipping_address_collection: null,
    shipping_cost: null,
    shipping_options: [],
    status: "open" as Stripe.Checkout.Session.Status,
    submit_type: null,
    subscription: null as string | null,
    success_url: successUrl,
    total_details: { amount_discount: 0, amount_shipping: 0, amount_tax: 0 },
    ui_mode: "hosted_page",
    url: `${publicUrl(ctx)}/c/pay/${id}` as string | null,
    wallet_options: null,
  } satisfies Wire<Stripe.Checkout.Session>;
  ctx.store.state.checkoutSessions[id] = session;
  ctx.store.state.checkoutSessionExtras[id] = {
    lines,
    paymentIntentMetadata: metadata((p.payment_intent_data as Json | undefined)?.metadata),
    subscriptionData: { metadata: metadata(sd.metadata), trialPeriodDays: sd.trial_period_days === undefined ? null : Number(sd.trial_period_days) },
  };
  ctx.store.wrote();
  return session;
}

/** Ends an open session (the API's expire, or its expiry time passing). */
function expire(deps: BillingDeps, session: Json, req: Ctx["req"]): void {
  Object.assign(session, { status: "expired", url: null });
  deps.store.wrote();
  emitJson(deps.outbox, "checkout.session.expired", session, req);
}

/** Sessions whose expires_at has passed are expired, as Stripe does (called before each read). */
function expireDue(deps: BillingDeps): void {
  const now = deps.clock.now();
  for (const s of Object.values(deps.store.state.checkoutSessions)) if (s.status === "open" && Number(s.expires_at) <= now) expire(deps, s, null);
}

export const checkoutSessionRoutes: Route[] = [
  { method: "POST", pattern: /^\/v1\/checkout\/sessions$/, accepts: ACCEPTS.create, returns: "checkout.session", handle: (ctx) => ({ body: create(ctx) }) },
  {
    method: "GET",
    pattern: /^\/v1\/checkout\/sessions\/([^/]+)$/,
    accepts: ACCEPTS.retrieve,
    returns: "checkout.session",
    handle: (ctx, m) => {
      expireDue(ctx);
      return { body: getSession(ctx, m[1]!) };
    },
  },
  {
    method: "POST",
    pattern: /^\/v1\/checkout\/sessions\/([^/]+)\/expire$/,
    accepts: ACCEPTS.expire,
    returns: "checkout.session",
    handle: (ctx, m) => {
      expireDue(ctx);
      const session = getSession(ctx, m[1]!);
      if (session.status !== "open") throw invalidRequest(`Only Checkout Sessions with a status of \`open\` can be expired. This Checkout Session has a status of \`${session.status}\`.`, { code: "checkout_session_unexpected_state" });
      expire(ctx, session, ctx.req);
      return { body: session };
    },
  },
];

// ---- Paying on the hosted page ------------------------------------------------------------------

/** Runs one of the emulator's own API routes (as a request with no API caller: req null). */
function call(deps: BillingDeps, routes: Route[], method: Route["method"], path: string, params: Record<string, unknown>): Json {
  const route = routes.find((r) => r.method === method && r.pattern.test(path))!;
  return route.handle({ ...deps, req: null, params }, path.match(route.pattern)!).body as Json;
}

function complete(deps: BillingDeps, session: Json, paid: boolean | "no_payment_required"): void {
  const customer = session.customer ? customerJson(deps.store, session.customer as string) : undefined;
  Object.assign(session, {
    status: "complete",
    payment_status: paid === "no_payment_required" ? "no_payment_required" : paid ? "paid" : "unpaid",
    url: null,
    customer_details: customer ? { address: null, business_name: null, email: (customer.email as string | null) ?? null, individual_name: null, name: (customer.name as string | null) ?? null, phone: null, tax_exempt: "none", tax_ids: [] } : null,
  });
  deps.store.wrote();
  emitJson(deps.outbox, "checkout.session.completed", session, null);
}

function ensureCustomer(deps: BillingDeps, session: Json): string {
  if (session.customer) return session.customer as string;
  const c = call(deps, customerRoutes, "POST", "/v1/customers", session.customer_email ? { email: session.customer_email } : {});
  session.customer = c.id;
  return c.id as string;
}

/** Pays an open session with a test card; returns an error message for the page, or null when done. */
function pay(deps: BillingDeps, session: Json, card: string): string | null {
  const extras = deps.store.state.checkoutSessionExtras[session.id as string]!;
  if (session.mode === "payment") {
    let piId = session.payment_intent as string | null;
    if (!piId) {
      const line = extras.lines[0]!;
      const pi = call(deps, paymentIntentRoutes, "POST", "/v1/payment_intents", {
        amount: String(session.amount_total),
        currency: session.currency,
        ...(session.customer ? { customer: session.customer } : {}),
        description: extras.lines.length === 1 ? line.name : `${extras.lines.length} items`,
        metadata: extras.paymentIntentMetadata,
      });
      piId = pi.id as string;
      session.payment_intent = piId;
      deps.store.wrote();
    }
    try {
      call(deps, paymentIntentRoutes, "POST", `/v1/payment_intents/${piId}/confirm`, { payment_method: card });
    } catch (e) {
      if (e instanceof ApiError && e.status === 402) return e.body.message ?? "Your card was declined.";
      throw e;
    }
    const pi = deps.store.state.paymentIntents[piId]!;
    if (pi.status === "succeeded") complete(deps, session, true);
    else if (pi.status === "processing") complete(deps, session, false);
    else return `The payment could not be completed (${pi.status}).`;
    return null;
  }
  // Subscription mode: the card is attached first (declining cards cannot be), then the
  // subscription is created and its first invoice charged; only a paid (or trialing) start completes.
  const customer = ensureCustomer(deps, session);
  let pm: Stripe.PaymentMethod;
  try {
    pm = attachPaymentMethod({ ...deps, req: null, params: {} }, card, customer);
  } catch (e) {
    if (e instanceof ApiError && e.status === 402) return e.body.message ?? "Your card was declined.";
    throw e;
  }
  const sub = call(deps, subscriptionRoutes, "POST", "/v1/subscriptions", {
    customer,
    items: extras.lines.map((l) => (l.quantity === 0 ? { price: l.price! } : { price: l.price!, quantity: String(l.quantity) })),
    default_payment_method: pm.id,
    payment_behavior: "allow_incomplete",
    metadata: extras.subscriptionData.metadata,
    ...(extras.subscriptionData.trialPeriodDays ? { trial_period_days: String(extras.subscriptionData.trialPeriodDays) } : {}),
  });
  if (sub.status === "incomplete") {
    call(deps, subscriptionRoutes, "DELETE", `/v1/subscriptions/${sub.id}`, {});
    return "Your card was declined.";
  }
  Object.assign(session, { subscription: sub.id, invoice: sub.latest_invoice });
  complete(deps, session, sub.status === "trialing" ? "no_payment_required" : true);
  return null;
}

/** After a `processing` payment settles: the async_payment event of the session it completed. */
export function onPaymentIntentSettled(deps: BillingDeps, pi: Stripe.PaymentIntent | null): void {
  if (!pi) return;
  const session = Object.values(deps.store.state.checkoutSessions).find((s) => s.payment_intent === pi.id && s.status === "complete" && s.payment_status === "unpaid");
  if (!session) return;
  if (pi.status === "succeeded") {
    session.payment_status = "paid";
    deps.store.wrote();
    emitJson(deps.outbox, "checkout.session.async_payment_succeeded", session, null);
  } else if (pi.status === "requires_payment_method") {
    deps.store.wrote();
    emitJson(deps.outbox, "checkout.session.async_payment_failed", session, null);
  }
}

const esc = (v: unknown) => String(v ?? "").replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const money = (amount: unknown, currency: unknown) => `${(Number(amount) / 100).toFixed(2)} ${String(currency).toUpperCase()}`;
const text = (status: number, body: string): PageResult => ({ status, headers: { "content-type": "text/plain; charset=utf-8" }, body });

function checkoutPage(session: Json, lines: Line[], error: string | null): PageResult {
  const rows = lines
    .map((l) =>
      l.quantity === 0
        ? `<tr><td>${esc(l.name)} usage</td><td>metered</td><td>${money(l.unitAmount, l.currency)} / unit, billed in arrears</td></tr>`
        : `<tr><td>${esc(l.name)}</td><td>× ${l.quantity}</td><td>${money(l.unitAmount * l.quantity, l.currency)}</td></tr>`,
    )
    .join("");
  const cards = PAGE_CARDS.filter((c) => c.modes.includes(session.mode as Stripe.Checkout.Session.Mode))
    .map((c, i) => `<label><input type="radio" name="payment_method" value="${c.id}"${i === 0 ? " checked" : ""}> ${esc(c.label)} <span class="muted">(•••• ${esc(TEST_CARDS[c.id]!.last4)})</span></label><br>`)
    .join("");
  const html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Checkout (Stripe emulator)</title>
<style>body{font-family:system-ui,sans-serif;max-width:560px;margin:2rem auto;padding:0 1rem;color:#1a1a1a}table{border-collapse:collapse;width:100%}td{border-bottom:1px solid #ddd;padding:.4rem}.muted{color:#666}.error{color:#b00020}button{margin-top:1rem;padding:.5rem 1rem}</style>
</head><body><h1>Checkout</h1><p class="muted">Stripe emulator · test mode</p>
<table>${rows}</table><p>Total <strong data-total>${money(session.amount_total, session.currency)}</strong>${session.mode === "subscription" ? " per period" : ""}</p>
${error ? `<p role="alert" class="error">${esc(error)}</p>` : ""}
<form method="post" action="/c/pay/${esc(session.id)}"><fieldset><legend>Test card</legend>${cards}</fieldset>
<button type="submit">${session.mode === "subscription" ? "Subscribe" : "Pay"}</button></form>
${session.cancel_url ? `<p><a href="${esc(session.cancel_url)}">Cancel and go back</a></p>` : ""}</body></html>`;
  return { status: error ? 402 : 200, headers: { "content-type": "text/html; charset=utf-8" }, body: html };
}

/** The hosted page (GET) and its payment (POST); null when the path is not a checkout page. */
export function handleCheckoutPages(deps: BillingDeps, method: string, pathname: string, rawBody: string): PageResult | null {
  const m = pathname.match(/^\/c\/pay\/([^/]+)$/);
  if (!m) return null;
  expireDue(deps);
  const session = deps.store.state.checkoutSessions[m[1]!];
  const extras = deps.store.state.checkoutSessionExtras[m[1]!];
  if (!session || !extras) return text(404, "This Checkout Session does not exist.");
  if (session.status === "expired") return text(410, "This Checkout Session has expired.");
  const success = () => ({ status: 303, headers: { location: String(session.success_url).replaceAll("{CHECKOUT_SESSION_ID}", String(session.id)) }, body: "" });
  if (session.status === "complete") return success();
  if (method === "GET") return checkoutPage(session, extras.lines, null);
  if (method !== "POST") return text(405, "Method not allowed");
  const card = str(parseParams(rawBody).payment_method) ?? "";
  if (!PAGE_CARDS.some((c) => c.id === card && c.modes.includes(session.mode as Stripe.Checkout.Session.Mode))) return checkoutPage(session, extras.lines, "Choose one of the test cards.");
  const error = pay(deps, session, card);
  deps.store.changed();
  return error ? checkoutPage(session, extras.lines, error) : success();
}
