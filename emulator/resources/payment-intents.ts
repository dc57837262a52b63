// PaymentIntents: create, retrieve, update, confirm (with Stripe's test payment methods),
// cancel, list; the charges they make; and the settlement of `processing` payments that the
// emulator's clock drives. Objects are built as the installed SDK's Stripe.* types.
// setup_future_usage (on_session / off_session) with a customer: when the payment succeeds, its
// PaymentMethod is attached to that customer (payment_method.attached before the success events),
// as Stripe saves a card for later use.
import type Stripe from "stripe";
import { parseChargeAmount, parseCurrency } from "../currencies";
import { ApiError, invalidRequest, missing, parameterMissing } from "../errors";
import { bool, metadata, str } from "../form";
import { newId, randomToken } from "../ids";
import type { ScheduledTask } from "../store";
import { ACCEPTED } from "../params";
import { listOf, type Ctx, type Route } from "./context";
import { customerExists } from "./customers";
import { behaviourOf, brandAndLast4, requirePaymentMethod, usePaymentMethod, type Decline } from "./payment-methods";
import { AUTHENTICATION_REQUIRED, offSessionOf } from "./off-session";

/** No confirm, update or cancel from these. */
const LOCKED = new Set<Stripe.PaymentIntent.Status>(["succeeded", "canceled", "processing"]);
const CANCELLABLE = new Set<Stripe.PaymentIntent.Status>(["requires_payment_method", "requires_confirmation", "requires_action", "requires_capture"]);

export function getPaymentIntent(ctx: Ctx, id: string): Stripe.PaymentIntent {
  const pi = ctx.store.state.paymentIntents[id];
  if (!pi) throw missing("payment_intent", id);
  return pi;
}

function unexpectedState(pi: Stripe.PaymentIntent, action: string): ApiError {
  return invalidRequest(`You cannot ${action} this PaymentIntent because it has a status of ${pi.status}.`, {
    code: "payment_intent_unexpected_state",
    doc_url: "https://stripe.com/docs/error-codes/payment-intent-unexpected-state",
    payment_intent: structuredClone(pi),
  });
}

type ChargeOutcome = { kind: "succeed" } | { kind: "pending" } | Decline;

function makeCharge(ctx: Ctx, pi: Stripe.PaymentIntent, pm: Stripe.PaymentMethod, outcome: ChargeOutcome): Stripe.Charge {
  const ok = outcome.kind === "succeed";
  const { brand, last4 } = brandAndLast4(pm);
  const charge = {
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
    metadata: { ...pi.metadata },
    on_behalf_of: null,
    outcome: chargeOutcome(outcome),
    paid: ok,
    payment_intent: pi.id,
    payment_method: pm.id,
    payment_method_details: { type: "card", card: cardDetails(brand, last4) },
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
    status: ok ? "succeeded" : outcome.kind === "pending" ? "pending" : "failed",
    transfer_data: null,
    transfer_group: null,
  } satisfies Stripe.Charge;
  ctx.store.state.charges[charge.id] = charge;
  ctx.store.wrote();
  return charge;
}

function chargeOutcome(outcome: ChargeOutcome): Stripe.Charge.Outcome | null {
  if (outcome.kind === "pending") return null;
  const ok = outcome.kind === "succeed";
  return {
    advice_code: null,
    network_advice_code: null,
    network_decline_code: null,
    network_status: ok ? "approved_by_network" : "declined_by_network",
    reason: outcome.kind === "decline" ? outcome.declineCode : null,
    risk_level: "normal",
    seller_message: ok ? "Payment complete." : "The bank did not return any further details with this decline.",
    type: ok ? "authorized" : "issuer_declined",
  };
}

function cardDetails(brand: string, last4: string): Stripe.Charge.PaymentMethodDetails.Card {
  return {
    amount_authorized: null,
    authorization_code: null,
    brand,
    checks: { address_line1_check: null, address_postal_code_check: null, cvc_check: "pass" },
    country: "US",
    electronic_commerce_indicator: null,
    exp_month: 12,
    exp_year: 2034,
    funding: "credit",
    installments: null,
    last4,
    mandate: null,
    network: brand,
    network_transaction_id: null,
    regulated_status: "unregulated",
    three_d_secure: null,
    transaction_link_id: null,
    wallet: null,
  };
}

/** setup_future_usage with a customer: the succeeded payment's card is saved to that customer. */
function attachForFutureUsage(ctx: Ctx, pi: Stripe.PaymentIntent, pm: Stripe.PaymentMethod): void {
  const customer = typeof pi.customer === "string" ? pi.customer : null;
  if (!pi.setup_future_usage || !customer || pm.customer) return;
  pm.customer = customer;
  ctx.store.wrote();
  ctx.outbox.emit("payment_method.attached", pm, ctx.req);
}

function succeed(ctx: Ctx, pi: Stripe.PaymentIntent, pm: Stripe.PaymentMethod): void {
  attachForFutureUsage(ctx, pi, pm);
  const charge = makeCharge(ctx, pi, pm, { kind: "succeed" });
  Object.assign(pi, { status: "succeeded", amount_received: pi.amount, latest_charge: charge.id, next_action: null, last_payment_error: null, payment_method: pm.id, processing: null } satisfies Partial<Stripe.PaymentIntent>);
  ctx.outbox.emit("charge.succeeded", charge, ctx.req);
  ctx.outbox.emit("payment_intent.succeeded", pi, ctx.req);
}

function paymentError(ctx: Ctx, pm: Stripe.PaymentMethod, chargeId: string, d: Decline): Stripe.PaymentIntent.LastPaymentError {
  return {
    type: "card_error",
    code: d.code,
    decline_code: d.declineCode,
    message: d.message,
    charge: chargeId,
    doc_url: `https://stripe.com/docs/error-codes/${d.code.replace(/_/g, "-")}`,
    payment_method: structuredClone(pm),
  };
}

/** A declined charge: the intent goes back to requires_payment_method, with the error recorded. */
function failCharge(ctx: Ctx, pi: Stripe.PaymentIntent, pm: Stripe.PaymentMethod, d: Decline, charge: Stripe.Charge): Stripe.PaymentIntent.LastPaymentError {
  const error = paymentError(ctx, pm, charge.id, d);
  Object.assign(pi, { status: "requires_payment_method", latest_charge: charge.id, last_payment_error: error, next_action: null, payment_method: null, processing: null } satisfies Partial<Stripe.PaymentIntent>);
  ctx.outbox.emit("charge.failed", charge, ctx.req);
  ctx.outbox.emit("payment_intent.payment_failed", pi, ctx.req);
  return error;
}

function decline(ctx: Ctx, pi: Stripe.PaymentIntent, pm: Stripe.PaymentMethod, d: Decline): ApiError {
  const error = failCharge(ctx, pi, pm, d, makeCharge(ctx, pi, pm, d));
  const reqId = ctx.req?.id ?? "";
  return new ApiError(402, {
    type: "card_error",
    code: d.code,
    decline_code: d.declineCode,
    message: d.message,
    charge: error.charge,
    doc_url: error.doc_url,
    payment_method: error.payment_method,
    payment_intent: structuredClone(pi),
    request_log_url: `https://dashboard.stripe.com/test/logs/${reqId}`,
  });
}

/** Runs a confirmation; returns the PI or throws the decline error (the PI is still updated). */
function confirm(ctx: Ctx, pi: Stripe.PaymentIntent, pmParam: string | undefined, offSession = false): Stripe.PaymentIntent {
  if (LOCKED.has(pi.status)) throw unexpectedState(pi, "confirm");
  const current = typeof pi.payment_method === "string" ? pi.payment_method : (pi.payment_method?.id ?? undefined);
  const method = pmParam ?? current;
  if (!method) {
    throw invalidRequest(
      "You cannot confirm this PaymentIntent because it's missing a payment method. To confirm the PaymentIntent with cus_…, specify a payment method attached to this customer along with the customer ID.",
      { code: "payment_intent_unexpected_state", payment_intent: structuredClone(pi) },
    );
  }
  requirePaymentMethod(ctx, method);
  const pm = usePaymentMethod(ctx, method);
  const behaviour = behaviourOf(ctx, pm.id);
  switch (behaviour.kind) {
    case "succeed":
      succeed(ctx, pi, pm);
      break;
    case "authenticate":
      if (offSession) throw decline(ctx, pi, pm, AUTHENTICATION_REQUIRED);
      Object.assign(pi, {
        status: "requires_action",
        payment_method: pm.id,
        last_payment_error: null,
        next_action: {
          type: "use_stripe_sdk",
          use_stripe_sdk: { type: "three_d_secure_redirect", stripe_js: `https://hooks.stripe.com/3d_secure_2/hosted?payment_intent=${pi.id}`, source: newId("src") },
        },
      } satisfies Partial<Stripe.PaymentIntent>);
      ctx.outbox.emit("payment_intent.requires_action", pi, ctx.req);
      break;
    case "processing": {
      const charge = makeCharge(ctx, pi, pm, { kind: "pending" });
      Object.assign(pi, {
        status: "processing",
        payment_method: pm.id,
        latest_charge: charge.id,
        last_payment_error: null,
        next_action: null,
        processing: { type: "card", card: {} },
      } satisfies Partial<Stripe.PaymentIntent>);
      ctx.outbox.emit("charge.pending", charge, ctx.req);
      ctx.outbox.emit("payment_intent.processing", pi, ctx.req);
      ctx.scheduler.add({
        kind: "settle_processing",
        paymentIntent: pi.id,
        outcome: behaviour.then.kind === "succeed" ? "succeed" : "fail",
        dueAtMs: ctx.clock.nowMs() + ctx.store.state.processingDelaySeconds * 1000,
      });
      break;
    }
    case "decline":
      throw decline(ctx, pi, pm, behaviour);
  }
  return pi;
}

/**
 * Ends a `processing` payment (run by the scheduler, or at once from the control surface): the
 * pending charge succeeds or fails, and the intent follows, with Stripe's events in order.
 */
export function settleProcessing(ctx: Ctx, task: Pick<ScheduledTask, "paymentIntent" | "outcome">): Stripe.PaymentIntent | null {
  const pi = ctx.store.state.paymentIntents[task.paymentIntent];
  if (!pi || pi.status !== "processing") return null;
  const charge = ctx.store.state.charges[String(pi.latest_charge)];
  const pm = ctx.store.state.paymentMethods[String(pi.payment_method)];
  if (!charge || !pm) return null;
  if (task.outcome === "succeed") {
    Object.assign(charge, {
      status: "succeeded",
      paid: true,
      captured: true,
      amount_captured: charge.amount,
      balance_transaction: newId("txn"),
      outcome: chargeOutcome({ kind: "succeed" }),
    } satisfies Partial<Stripe.Charge>);
    ctx.store.wrote();
    attachForFutureUsage(ctx, pi, pm);
    Object.assign(pi, { status: "succeeded", amount_received: pi.amount, processing: null } satisfies Partial<Stripe.PaymentIntent>);
    ctx.outbox.emit("charge.succeeded", charge, ctx.req);
    ctx.outbox.emit("payment_intent.succeeded", pi, ctx.req);
  } else {
    const d = behaviourOf(ctx, pm.id);
    const reason = d.kind === "processing" && d.then.kind === "decline" ? d.then : { kind: "decline" as const, code: "card_declined", declineCode: "generic_decline", message: "Your card was declined." };
    Object.assign(charge, { status: "failed", failure_code: reason.code, failure_message: reason.message, outcome: chargeOutcome(reason) } satisfies Partial<Stripe.Charge>);
    ctx.store.wrote();
    failCharge(ctx, pi, pm, reason, charge);
  }
  return pi;
}

export function authenticate(ctx: Ctx, id: string, outcome: "succeed" | "fail"): Stripe.PaymentIntent {
  const pi = getPaymentIntent(ctx, id);
  if (pi.status !== "requires_action") throw unexpectedState(pi, "authenticate");
  // usePaymentMethod also covers a test id stored by an older emulator (state files persist).
  const pm = usePaymentMethod(ctx, String(pi.payment_method));
  if (outcome === "succeed") succeed(ctx, pi, pm);
  else {
    const error: Stripe.PaymentIntent.LastPaymentError = {
      type: "invalid_request_error",
      code: "payment_intent_authentication_failure",
      message: "We are unable to authenticate your payment method. Please choose a different payment method and try again.",
      doc_url: "https://stripe.com/docs/error-codes/payment-intent-authentication-failure",
      payment_method: structuredClone(pm),
    };
    Object.assign(pi, { status: "requires_payment_method", last_payment_error: error, next_action: null, payment_method: null } satisfies Partial<Stripe.PaymentIntent>);
    ctx.outbox.emit("payment_intent.payment_failed", pi, ctx.req);
  }
  return pi;
}

function create(ctx: Ctx): Stripe.PaymentIntent {
  const p = ctx.params;
  // Validation first: nothing is written (or stored under the idempotency key) when it fails.
  if (p.amount === undefined) throw parameterMissing("amount");
  const currency = parseCurrency(p.currency);
  const amount = parseChargeAmount(p.amount, currency);
  const customer = str(p.customer);
  if (customer && !customerExists(ctx, customer)) throw missing("customer", customer, "customer");
  const pmParam = str(p.payment_method);
  if (pmParam) requirePaymentMethod(ctx, pmParam);
  const offSession = offSessionOf(ctx, p, customer, pmParam);
  const sfu = str(p.setup_future_usage) ?? null;
  if (sfu !== null && sfu !== "off_session" && sfu !== "on_session") {
    throw invalidRequest("Invalid setup_future_usage: must be one of on_session or off_session", { param: "setup_future_usage" });
  }
  const apm = p.automatic_payment_methods as Record<string, unknown> | undefined;
  const allowRedirects = str(apm?.allow_redirects) === "never" ? "never" : "always";
  const pm = pmParam ? usePaymentMethod(ctx, pmParam) : null;
  const id = newId("pi");
  const pi = {
    id,
    object: "payment_intent",
    allowed_payment_method_types: null,
    amount,
    amount_capturable: 0,
    amount_details: { tip: {} },
    amount_received: 0,
    application: null,
    application_fee_amount: null,
    automatic_payment_methods: apm ? { allow_redirects: allowRedirects, enabled: bool(apm.enabled) ?? false } : null,
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
    payment_method: pm?.id ?? null,
    payment_method_configuration_details: null,
    payment_method_options: { card: { installments: null, mandate_options: null, network: null, request_three_d_secure: "automatic" } },
    payment_method_types: ["card"],
    payment_record: null,
    processing: null,
    receipt_email: str(p.receipt_email) ?? null,
    review: null,
    setup_future_usage: sfu,
    shipping: null,
    source: null,
    statement_descriptor: null,
    statement_descriptor_suffix: null,
    status: pm ? "requires_confirmation" : "requires_payment_method",
    transfer_data: null,
    transfer_group: null,
  } satisfies Stripe.PaymentIntent;
  ctx.store.state.paymentIntents[id] = pi;
  ctx.store.wrote();
  ctx.outbox.emit("payment_intent.created", pi, ctx.req);
  if (bool(p.confirm)) confirm(ctx, pi, undefined, offSession);
  return pi;
}

function update(ctx: Ctx, id: string): Stripe.PaymentIntent {
  const pi = getPaymentIntent(ctx, id);
  if (LOCKED.has(pi.status)) throw unexpectedState(pi, "update");
  const p = ctx.params;
  // Validate everything before changing anything.
  const currency = p.currency !== undefined ? parseCurrency(p.currency) : pi.currency;
  const amount = p.amount !== undefined || p.currency !== undefined ? parseChargeAmount(p.amount ?? String(pi.amount), currency) : pi.amount;
  const pmParam = p.payment_method !== undefined ? str(p.payment_method) : undefined;
  if (pmParam) requirePaymentMethod(ctx, pmParam);
  // Stripe has no event for an update (there is no payment_intent.updated).
  pi.amount = amount;
  pi.currency = currency;
  if (p.description !== undefined) pi.description = str(p.description) || null;
  if (p.metadata !== undefined) pi.metadata = metadata(p.metadata, pi.metadata);
  if (pmParam) {
    pi.payment_method = usePaymentMethod(ctx, pmParam).id;
    if (pi.status === "requires_payment_method") pi.status = "requires_confirmation";
  }
  ctx.store.wrote();
  return pi;
}

function cancel(ctx: Ctx, id: string): Stripe.PaymentIntent {
  const pi = getPaymentIntent(ctx, id);
  if (!CANCELLABLE.has(pi.status)) throw unexpectedState(pi, "cancel");
  const reason = str(ctx.params.cancellation_reason) ?? null;
  const allowed = ["abandoned", "duplicate", "fraudulent", "requested_by_customer"] as const;
  if (reason && !(allowed as readonly string[]).includes(reason)) {
    throw invalidRequest(`Invalid cancellation_reason: must be one of ${allowed.join(", ")}`, { param: "cancellation_reason" });
  }
  Object.assign(pi, {
    status: "canceled",
    canceled_at: ctx.clock.now(),
    cancellation_reason: reason as Stripe.PaymentIntent.CancellationReason | null,
    next_action: null,
  } satisfies Partial<Stripe.PaymentIntent>);
  ctx.store.wrote();
  ctx.outbox.emit("payment_intent.canceled", pi, ctx.req);
  return pi;
}

export const paymentIntentRoutes: Route[] = [
  {
    method: "POST",
    pattern: /^\/v1\/payment_intents$/,
    accepts: ACCEPTED.paymentIntentCreate,
    returns: "payment_intent",
    handle: (ctx) => ({ body: create(ctx) }),
  },
  {
    method: "GET",
    pattern: /^\/v1\/payment_intents\/([^/]+)$/,
    accepts: ACCEPTED.paymentIntentRetrieve,
    returns: "payment_intent",
    handle: (ctx, m) => ({ body: getPaymentIntent(ctx, m[1]!) }),
  },
  {
    method: "POST",
    pattern: /^\/v1\/payment_intents\/([^/]+)$/,
    accepts: ACCEPTED.paymentIntentUpdate,
    returns: "payment_intent",
    handle: (ctx, m) => ({ body: update(ctx, m[1]!) }),
  },
  {
    method: "POST",
    pattern: /^\/v1\/payment_intents\/([^/]+)\/confirm$/,
    accepts: ACCEPTED.paymentIntentConfirm,
    returns: "payment_intent",
    handle: (ctx, m) => ({ body: confirm(ctx, getPaymentIntent(ctx, m[1]!), str(ctx.params.payment_method)) }),
  },
  {
    method: "POST",
    pattern: /^\/v1\/payment_intents\/([^/]+)\/cancel$/,
    accepts: ACCEPTED.paymentIntentCancel,
    returns: "payment_intent",
    handle: (ctx, m) => ({ body: cancel(ctx, m[1]!) }),
  },
  {
    method: "GET",
    pattern: /^\/v1\/payment_intents$/,
    accepts: ACCEPTED.paymentIntentList,
    returns: "list:payment_intent",
    handle: (ctx) => {
      let all = Object.values(ctx.store.state.paymentIntents).reverse();
      if (typeof ctx.params.customer === "string") all = all.filter((p) => p.customer === ctx.params.customer);
      return { body: listOf("/v1/payment_intents", all, ctx.params) };
    },
  },
  {
    method: "GET",
    pattern: /^\/v1\/charges\/([^/]+)$/,
    accepts: ACCEPTED.chargeRetrieve,
    returns: "charge",
    handle: (ctx, m) => {
      const c = ctx.store.state.charges[m[1]!];
      if (!c) throw missing("charge", m[1]!);
      return { body: c };
    },
  },
];
