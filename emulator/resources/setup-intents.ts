// SetupIntents: saving a card for later (off-session) payments. Create (optionally confirm),
// retrieve, confirm, cancel. Confirming with a test payment method makes a new pm_… (as Stripe
// does) and, when the intent has a customer, attaches it to that customer
// (payment_method.attached). Outcomes by card:
//   succeeds / settles later / pm_card_chargeCustomerFail → succeeded (setup_intent.succeeded;
//     chargeCustomerFail then declines every charge, which is what it is for);
//   cards that decline → 402 card_error with the intent in the body, which returns to
//     requires_payment_method with last_setup_error (setup_intent.setup_failed);
//   pm_card_authenticationRequired → requires_action (setup_intent.requires_action).
import type Stripe from "stripe";
import { ApiError, invalidRequest, missing } from "../errors";
import { bool, metadata, str } from "../form";
import { newId, randomToken } from "../ids";
import { accepts } from "./setup-intent-params";
import type { Ctx, Route } from "./context";
import { customerExists } from "./customers";
import { behaviourOf, requirePaymentMethod, usePaymentMethod } from "./payment-methods";

function get(ctx: Ctx, id: string): Stripe.SetupIntent {
  const si = ctx.store.state.setupIntents?.[id];
  if (!si) throw missing("setup_intent", id);
  return si;
}

function unexpectedState(si: Stripe.SetupIntent, action: string): ApiError {
  return invalidRequest(`You cannot ${action} this SetupIntent because it has a status of ${si.status}.`, {
    code: "setup_intent_unexpected_state",
    doc_url: "https://stripe.com/docs/error-codes/setup-intent-unexpected-state",
  });
}

function confirm(ctx: Ctx, si: Stripe.SetupIntent, pmParam: string | undefined): Stripe.SetupIntent {
  if (si.status !== "requires_payment_method" && si.status !== "requires_confirmation") throw unexpectedState(si, "confirm");
  const method = pmParam ?? (typeof si.payment_method === "string" ? si.payment_method : undefined);
  if (!method) throw invalidRequest("You cannot confirm this SetupIntent because it's missing a payment method.", { code: "setup_intent_unexpected_state" });
  requirePaymentMethod(ctx, method);
  const testId = method;
  const pm = usePaymentMethod(ctx, method);
  const customer = typeof si.customer === "string" ? si.customer : null;
  if (pm.customer && customer && pm.customer !== customer) throw invalidRequest("This PaymentMethod is already attached to another customer.", { code: "payment_method_unexpected_state" });
  const behaviour = behaviourOf(ctx, pm.id);
  const saves = testId === "pm_card_chargeCustomerFail" || behaviour.kind === "succeed" || behaviour.kind === "processing";
  if (behaviour.kind === "authenticate") {
    Object.assign(si, {
      status: "requires_action",
      payment_method: pm.id,
      next_action: { type: "use_stripe_sdk", use_stripe_sdk: { type: "three_d_secure_redirect", stripe_js: `https://hooks.stripe.com/3d_secure_2/hosted?setup_intent=${si.id}` } },
    } satisfies Partial<Stripe.SetupIntent>);
    ctx.store.wrote();
    ctx.outbox.emit("setup_intent.requires_action", si, ctx.req);
    return si;
  }
  if (!saves && behaviour.kind === "decline") {
    const error: Stripe.SetupIntent.LastSetupError = {
      type: "card_error",
      code: behaviour.code as Stripe.SetupIntent.LastSetupError.Code,
      decline_code: behaviour.declineCode,
      message: behaviour.message,
      doc_url: `https://stripe.com/docs/error-codes/${behaviour.code.replace(/_/g, "-")}`,
      payment_method: structuredClone(pm),
    };
    Object.assign(si, { status: "requires_payment_method", payment_method: null, last_setup_error: error, next_action: null } satisfies Partial<Stripe.SetupIntent>);
    ctx.store.wrote();
    ctx.outbox.emit("setup_intent.setup_failed", si, ctx.req);
    const body = { type: "card_error" as const, code: behaviour.code, decline_code: behaviour.declineCode, message: behaviour.message, doc_url: error.doc_url, payment_method: error.payment_method };
    throw new ApiError(402, Object.assign(body, { setup_intent: structuredClone(si) }));
  }
  if (customer && pm.customer !== customer) {
    pm.customer = customer;
    ctx.outbox.emit("payment_method.attached", pm, ctx.req);
  }
  Object.assign(si, { status: "succeeded", payment_method: pm.id, last_setup_error: null, next_action: null } satisfies Partial<Stripe.SetupIntent>);
  ctx.store.wrote();
  ctx.outbox.emit("setup_intent.succeeded", si, ctx.req);
  return si;
}

function create(ctx: Ctx): Stripe.SetupIntent {
  const p = ctx.params;
  // Validation first: nothing is written (or stored under the idempotency key) when it fails.
  const customer = str(p.customer);
  if (customer && !customerExists(ctx, customer)) throw missing("customer", customer, "customer");
  const usage = str(p.usage) ?? "off_session";
  if (usage !== "off_session" && usage !== "on_session") throw invalidRequest(`Invalid usage: must be one of off_session or on_session`, { param: "usage" });
  const pmParam = str(p.payment_method);
  if (pmParam) requirePaymentMethod(ctx, pmParam);
  const apm = p.automatic_payment_methods as Record<string, unknown> | undefined;
  const id = newId("seti");
  const si = {
    id,
    object: "setup_intent",
    allowed_payment_method_types: null,
    application: null,
    automatic_payment_methods: apm ? { allow_redirects: str(apm.allow_redirects) === "never" ? "never" : "always", enabled: bool(apm.enabled) ?? false } : null,
    cancellation_reason: null,
    client_secret: `${id}_secret_${randomToken(25)}`,
    created: ctx.clock.now(),
    customer: customer ?? null,
    description: str(p.description) ?? null,
    excluded_payment_method_types: null,
    last_setup_error: null,
    latest_attempt: null,
    livemode: false,
    mandate: null,
    metadata: metadata(p.metadata),
    next_action: null,
    on_behalf_of: null,
    payment_method: pmParam ? usePaymentMethod(ctx, pmParam).id : null,
    payment_method_configuration_details: null,
    payment_method_options: { card: { mandate_options: null, network: null, request_three_d_secure: "automatic" } },
    payment_method_types: ["card"],
    single_use_mandate: null,
    status: pmParam ? "requires_confirmation" : "requires_payment_method",
    usage,
  } satisfies Stripe.SetupIntent;
  ctx.store.state.setupIntents ??= {};
  ctx.store.state.setupIntents[id] = si;
  ctx.store.wrote();
  ctx.outbox.emit("setup_intent.created", si, ctx.req);
  if (bool(p.confirm)) confirm(ctx, si, undefined);
  return si;
}

function cancel(ctx: Ctx, id: string): Stripe.SetupIntent {
  const si = get(ctx, id);
  if (si.status === "succeeded" || si.status === "canceled" || si.status === "processing") throw unexpectedState(si, "cancel");
  const reason = str(ctx.params.cancellation_reason) ?? null;
  if (reason && !["abandoned", "duplicate", "requested_by_customer"].includes(reason)) {
    throw invalidRequest("Invalid cancellation_reason: must be one of abandoned, duplicate, requested_by_customer", { param: "cancellation_reason" });
  }
  Object.assign(si, { status: "canceled", cancellation_reason: reason as Stripe.SetupIntent.CancellationReason | null, next_action: null } satisfies Partial<Stripe.SetupIntent>);
  ctx.store.wrote();
  ctx.outbox.emit("setup_intent.canceled", si, ctx.req);
  return si;
}

export const setupIntentRoutes: Route[] = [
  { method: "POST", pattern: /^\/v1\/setup_intents$/, accepts: accepts.create, returns: "setup_intent", handle: (ctx) => ({ body: create(ctx) }) },
  { method: "GET", pattern: /^\/v1\/setup_intents\/([^/]+)$/, accepts: accepts.retrieve, returns: "setup_intent", handle: (ctx, m) => ({ body: get(ctx, m[1]!) }) },
  {
    method: "POST",
    pattern: /^\/v1\/setup_intents\/([^/]+)\/confirm$/,
    accepts: accepts.confirm,
    returns: "setup_intent",
    handle: (ctx, m) => ({ body: confirm(ctx, get(ctx, m[1]!), str(ctx.params.payment_method)) }),
  },
  { method: "POST", pattern: /^\/v1\/setup_intents\/([^/]+)\/cancel$/, accepts: accepts.cancel, returns: "setup_intent", handle: (ctx, m) => ({ body: cancel(ctx, m[1]!) }) },
];
