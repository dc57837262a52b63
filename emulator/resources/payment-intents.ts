// PaymentIntents: create, retrieve, update, confirm (with Stripe's test payment methods),
// cancel, list; plus charges and payment methods they refer to.
import { ApiError, invalidInteger, invalidRequest, missing, parameterMissing } from "../errors";
import { bool, int, metadata, str } from "../form";
import { newId, randomToken } from "../ids";
import type { Json } from "../store";
import { listOf, type Ctx, type Route } from "./context";
import { customerExists } from "./customers";
import { TEST_CARDS, paymentMethodObject, type CardBehaviour } from "./payment-methods";

const FINAL = new Set(["succeeded", "canceled"]);

function get(ctx: Ctx, id: string): Json {
  const pi = ctx.store.state.paymentIntents[id];
  if (!pi) throw missing("payment_intent", id);
  return pi;
}

function unexpectedState(pi: Json, action: string): ApiError {
  return invalidRequest(
    `You cannot ${action} this PaymentIntent because it has a status of ${pi.status}.`,
    { code: "payment_intent_unexpected_state", doc_url: "https://stripe.com/docs/error-codes/payment-intent-unexpected-state", payment_intent: pi },
  );
}

function requirePaymentMethod(id: string): void {
  if (!TEST_CARDS[id]) throw invalidRequest(`No such PaymentMethod: '${id}'`, { code: "resource_missing", param: "payment_method" }, 400);
}

function makeCharge(ctx: Ctx, pi: Json, pmId: string, outcome: CardBehaviour): Json {
  const card = TEST_CARDS[pmId]!;
  const ok = outcome.kind === "succeed";
  const charge: Json = {
    id: newId("ch"),
    object: "charge",
    amount: pi.amount,
    amount_captured: ok ? pi.amount : 0,
    amount_refunded: 0,
    application: null,
    application_fee: null,
    application_fee_amount: null,
    balance_transaction: ok ? newId("txn") : null,
    billing_details: { address: null, email: null, name: null, phone: null, tax_id: null },
    calculated_statement_descriptor: "CREDITLOOP",
    captured: ok,
    created: ctx.clock.now(),
    currency: pi.currency,
    customer: pi.customer,
    description: pi.description,
    disputed: false,
    failure_balance_transaction: null,
    failure_code: outcome.kind === "decline" ? outcome.code : null,
    failure_message: outcome.kind === "decline" ? outcome.message : null,
    fraud_details: {},
    livemode: false,
    metadata: { ...(pi.metadata as object) },
    on_behalf_of: null,
    outcome: {
      network_status: ok ? "approved_by_network" : "declined_by_network",
      reason: outcome.kind === "decline" ? outcome.declineCode : null,
      risk_level: "normal",
      seller_message: ok ? "Payment complete." : "The bank did not return any further details with this decline.",
      type: ok ? "authorized" : "issuer_declined",
    },
    paid: ok,
    payment_intent: pi.id,
    payment_method: pmId,
    payment_method_details: { type: "card", card: { brand: card.brand, last4: card.last4, exp_month: 12, exp_year: 2034, country: "US", funding: "credit" } },
    receipt_email: pi.receipt_email,
    receipt_number: null,
    receipt_url: null,
    refunded: false,
    review: null,
    shipping: null,
    source: null,
    source_transfer: null,
    statement_descriptor: null,
    statement_descriptor_suffix: null,
    status: ok ? "succeeded" : "failed",
    transfer_data: null,
    transfer_group: null,
  };
  ctx.store.state.charges[charge.id as string] = charge;
  return charge;
}

function succeed(ctx: Ctx, pi: Json, pmId: string): void {
  const charge = makeCharge(ctx, pi, pmId, { kind: "succeed" });
  Object.assign(pi, { status: "succeeded", amount_received: pi.amount, latest_charge: charge.id, next_action: null, last_payment_error: null, payment_method: pmId });
  ctx.outbox.emit("charge.succeeded", charge, ctx.req);
  ctx.outbox.emit("payment_intent.succeeded", pi, ctx.req);
}

function decline(ctx: Ctx, pi: Json, pmId: string, d: Extract<CardBehaviour, { kind: "decline" }>): ApiError {
  const charge = makeCharge(ctx, pi, pmId, d);
  const pm = paymentMethodObject(pmId, ctx.clock.now());
  const error = {
    type: "card_error" as const,
    code: d.code,
    decline_code: d.declineCode,
    message: d.message,
    charge: charge.id as string,
    doc_url: `https://stripe.com/docs/error-codes/${d.code.replace(/_/g, "-")}`,
    payment_method: pm,
  };
  Object.assign(pi, { status: "requires_payment_method", latest_charge: charge.id, last_payment_error: error, next_action: null, payment_method: null });
  ctx.outbox.emit("charge.failed", charge, ctx.req);
  ctx.outbox.emit("payment_intent.payment_failed", pi, ctx.req);
  return new ApiError(402, { ...error, payment_intent: structuredClone(pi), request_log_url: `https://dashboard.stripe.com/test/logs/${ctx.req.id}` });
}

/** Runs a confirmation; returns the PI or throws the decline error (the PI is still updated). */
function confirm(ctx: Ctx, pi: Json, pmId: string | undefined): Json {
  if (FINAL.has(pi.status as string)) throw unexpectedState(pi, "confirm");
  const method = pmId ?? (pi.payment_method as string | null) ?? undefined;
  if (!method) {
    throw invalidRequest(
      "You cannot confirm this PaymentIntent because it's missing a payment method. To confirm the PaymentIntent with cus_…, specify a payment method attached to this customer along with the customer ID.",
      { code: "payment_intent_unexpected_state", payment_intent: pi },
    );
  }
  requirePaymentMethod(method);
  const behaviour = TEST_CARDS[method]!.behaviour;
  if (behaviour.kind === "succeed") succeed(ctx, pi, method);
  else if (behaviour.kind === "authenticate") {
    Object.assign(pi, {
      status: "requires_action",
      payment_method: method,
      last_payment_error: null,
      next_action: { type: "use_stripe_sdk", use_stripe_sdk: { type: "three_d_secure_redirect", stripe_js: `https://hooks.stripe.com/3d_secure_2/hosted?payment_intent=${pi.id}`, source: newId("src") } },
    });
    ctx.outbox.emit("payment_intent.requires_action", pi, ctx.req);
  } else throw decline(ctx, pi, method, behaviour);
  return pi;
}

export function authenticate(ctx: Ctx, id: string, outcome: "succeed" | "fail"): Json {
  const pi = get(ctx, id);
  if (pi.status !== "requires_action") throw unexpectedState(pi, "authenticate");
  const pmId = pi.payment_method as string;
  if (outcome === "succeed") succeed(ctx, pi, pmId);
  else {
    const error = {
      type: "invalid_request_error",
      code: "payment_intent_authentication_failure",
      message: "We are unable to authenticate your payment method. Please choose a different payment method and try again.",
      doc_url: "https://stripe.com/docs/error-codes/payment-intent-authentication-failure",
      payment_method: paymentMethodObject(pmId, ctx.clock.now()),
    };
    Object.assign(pi, { status: "requires_payment_method", last_payment_error: error, next_action: null, payment_method: null });
    ctx.outbox.emit("payment_intent.payment_failed", pi, ctx.req);
  }
  return pi;
}

function create(ctx: Ctx): Json {
  const p = ctx.params;
  if (p.amount === undefined) throw parameterMissing("amount");
  const amount = int(p.amount);
  if (amount === undefined || Number.isNaN(amount)) throw invalidInteger("amount", p.amount);
  if (amount < 1) throw invalidRequest("This value must be greater than or equal to 1.", { code: "parameter_invalid_integer", param: "amount" });
  if (amount < 50) {
    throw invalidRequest("Amount must be at least $0.50 usd", { code: "amount_too_small", param: "amount", doc_url: "https://stripe.com/docs/error-codes/amount-too-small" });
  }
  if (p.currency === undefined) throw parameterMissing("currency");
  const currency = str(p.currency)?.toLowerCase();
  if (!currency || !/^[a-z]{3}$/.test(currency)) throw invalidRequest(`Invalid currency: ${String(p.currency)}.`, { param: "currency" });
  const customer = str(p.customer);
  if (customer && !customerExists(ctx, customer)) throw missing("customer", customer, "customer");
  const pm = str(p.payment_method);
  if (pm) requirePaymentMethod(pm);
  const apm = p.automatic_payment_methods as Record<string, unknown> | undefined;
  const id = newId("pi");
  const pi: Json = {
    id,
    object: "payment_intent",
    allowed_payment_method_types: null,
    amount,
    amount_capturable: 0,
    amount_details: { tip: {} },
    amount_received: 0,
    application: null,
    application_fee_amount: null,
    automatic_payment_methods: apm ? { allow_redirects: str(apm.allow_redirects) ?? "always", enabled: bool(apm.enabled) ?? false } : null,
    canceled_at: null,
    cancellation_reason: null,
    capture_method: "automatic_async",
    client_secret: `${id}_secret_${randomToken(25)}`,
    confirmation_method: "automatic",
    created: ctx.clock.now(),
    currency,
    customer: customer ?? null,
    customer_account: null,
    description: str(p.description) ?? null,
    excluded_payment_method_types: null,
    last_payment_error: null,
    latest_charge: null,
    livemode: false,
    managed_payments: null,
    metadata: metadata(p.metadata),
    next_action: null,
    on_behalf_of: null,
    payment_method: pm ?? null,
    payment_method_configuration_details: null,
    payment_method_options: { card: { installments: null, mandate_options: null, network: null, request_three_d_secure: "automatic" } },
    payment_method_types: ["card"],
    payment_record: null,
    processing: null,
    receipt_email: str(p.receipt_email) ?? null,
    review: null,
    setup_future_usage: null,
    shipping: null,
    source: null,
    statement_descriptor: null,
    statement_descriptor_suffix: null,
    status: pm ? "requires_confirmation" : "requires_payment_method",
    transfer_data: null,
    transfer_group: null,
  };
  ctx.store.state.paymentIntents[id] = pi;
  ctx.outbox.emit("payment_intent.created", pi, ctx.req);
  if (bool(p.confirm)) confirm(ctx, pi, pm);
  return pi;
}

export const paymentIntentRoutes: Route[] = [
  { method: "POST", pattern: /^\/v1\/payment_intents$/, handle: (ctx) => ({ body: create(ctx) }) },
  { method: "GET", pattern: /^\/v1\/payment_intents\/([^/]+)$/, handle: (ctx, m) => ({ body: get(ctx, m[1]!) }) },
  {
    method: "POST",
    pattern: /^\/v1\/payment_intents\/([^/]+)$/,
    handle: (ctx, m) => {
      const pi = get(ctx, m[1]!);
      if (FINAL.has(pi.status as string)) throw unexpectedState(pi, "update");
      const p = ctx.params;
      const previous: Json = {};
      if (p.amount !== undefined) {
        const amount = int(p.amount);
        if (amount === undefined || Number.isNaN(amount) || amount < 50) throw invalidInteger("amount", p.amount);
        previous.amount = pi.amount;
        pi.amount = amount;
      }
      if (p.description !== undefined) {
        previous.description = pi.description;
        pi.description = str(p.description) || null;
      }
      if (p.metadata !== undefined) {
        previous.metadata = pi.metadata;
        pi.metadata = metadata(p.metadata, pi.metadata as Record<string, string>);
      }
      if (p.payment_method !== undefined) {
        const pm = str(p.payment_method)!;
        requirePaymentMethod(pm);
        previous.payment_method = pi.payment_method;
        pi.payment_method = pm;
        if (pi.status === "requires_payment_method") pi.status = "requires_confirmation";
      }
      ctx.outbox.emit("payment_intent.updated", pi, ctx.req, previous);
      return { body: pi };
    },
  },
  {
    method: "POST",
    pattern: /^\/v1\/payment_intents\/([^/]+)\/confirm$/,
    handle: (ctx, m) => ({ body: confirm(ctx, get(ctx, m[1]!), str(ctx.params.payment_method)) }),
  },
  {
    method: "POST",
    pattern: /^\/v1\/payment_intents\/([^/]+)\/cancel$/,
    handle: (ctx, m) => {
      const pi = get(ctx, m[1]!);
      if (!["requires_payment_method", "requires_confirmation", "requires_action", "requires_capture"].includes(pi.status as string)) {
        throw unexpectedState(pi, "cancel");
      }
      const reason = str(ctx.params.cancellation_reason) ?? null;
      const allowed = ["abandoned", "duplicate", "fraudulent", "requested_by_customer"];
      if (reason && !allowed.includes(reason)) {
        throw invalidRequest(`Invalid cancellation_reason: must be one of ${allowed.join(", ")}`, { param: "cancellation_reason" });
      }
      Object.assign(pi, { status: "canceled", canceled_at: ctx.clock.now(), cancellation_reason: reason, next_action: null });
      ctx.outbox.emit("payment_intent.canceled", pi, ctx.req);
      return { body: pi };
    },
  },
  {
    method: "GET",
    pattern: /^\/v1\/payment_intents$/,
    handle: (ctx) => {
      let all = Object.values(ctx.store.state.paymentIntents).reverse();
      if (typeof ctx.params.customer === "string") all = all.filter((p) => p.customer === ctx.params.customer);
      return { body: listOf("/v1/payment_intents", all, ctx.params) };
    },
  },
  {
    method: "GET",
    pattern: /^\/v1\/charges\/([^/]+)$/,
    handle: (ctx, m) => {
      const c = ctx.store.state.charges[m[1]!];
      if (!c) throw missing("charge", m[1]!);
      return { body: c };
    },
  },
  {
    method: "GET",
    pattern: /^\/v1\/payment_methods\/([^/]+)$/,
    handle: (ctx, m) => {
      if (!TEST_CARDS[m[1]!]) throw missing("PaymentMethod", m[1]!);
      return { body: paymentMethodObject(m[1]!, ctx.clock.now()) };
    },
  },
];
