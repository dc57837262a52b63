// Refunds: create (by payment_intent or charge; amount defaults to what is left), retrieve, list.
// Cards refund at once (status succeeded). Each refund updates its charge (amount_refunded,
// refunded when whole) and emits refund.created and charge.refunded, as Stripe does. Stripe's
// refusals: amount above what is left (amount_too_large), a fully refunded charge
// (charge_already_refunded), a disputed charge (charge_disputed), a charge that did not succeed.
import type Stripe from "stripe";
import { invalidInteger, invalidRequest, missing, parameterMissing } from "../errors";
import { newId } from "../ids";
import { ACCEPTED } from "../params";
import { listOf, type Ctx, type Route } from "./context";

const REASONS = ["duplicate", "fraudulent", "requested_by_customer"] as const;

function refundsOf(ctx: Ctx): Record<string, Stripe.Refund> {
  return ctx.store.state.refunds;
}

function chargeFor(ctx: Ctx): Stripe.Charge {
  const s = ctx.store.state;
  const p = ctx.params;
  if (typeof p.charge === "string") {
    const c = s.charges[p.charge];
    if (!c) throw missing("charge", p.charge, "charge", 400);
    return c;
  }
  if (typeof p.payment_intent === "string") {
    const pi = s.paymentIntents[p.payment_intent];
    if (!pi) throw missing("payment_intent", p.payment_intent, "payment_intent", 400);
    const c = pi.latest_charge ? s.charges[String(pi.latest_charge)] : undefined;
    if (!c || pi.status !== "succeeded") throw invalidRequest(`This PaymentIntent (${pi.id}) does not have a successful charge to refund.`, { code: "charge_not_refundable" });
    return c;
  }
  throw parameterMissing("charge");
}

export function createRefund(ctx: Ctx): Stripe.Refund {
  const p = ctx.params;
  const charge = chargeFor(ctx);
  if (charge.status !== "succeeded") throw invalidRequest(`Charge ${charge.id} has not succeeded and cannot be refunded.`, { code: "charge_not_refundable" });
  if (charge.disputed) throw invalidRequest(`Charge ${charge.id} has been charged back; cannot issue a refund.`, { code: "charge_disputed" });
  const left = charge.amount - charge.amount_refunded;
  if (left <= 0) throw invalidRequest(`Charge ${charge.id} has already been refunded.`, { code: "charge_already_refunded" });
  let amount = left;
  if (p.amount !== undefined) {
    amount = Number(p.amount);
    if (!Number.isInteger(amount) || String(p.amount).trim() === "") throw invalidInteger("amount", p.amount);
    if (amount <= 0) throw invalidRequest("Invalid positive integer", { param: "amount", code: "parameter_invalid_integer" });
    if (amount > left) throw invalidRequest(`Refund amount (${amount}) is greater than unrefunded amount on charge (${left})`, { code: "amount_too_large", param: "amount" });
  }
  const reason = p.reason;
  if (reason !== undefined && !REASONS.includes(reason as (typeof REASONS)[number])) throw invalidRequest("Invalid reason", { param: "reason" });
  const metadata = typeof p.metadata === "object" && p.metadata !== null ? (p.metadata as Record<string, string>) : {};
  const refund = {
    id: newId("re"),
    object: "refund",
    amount,
    balance_transaction: newId("txn"),
    charge: charge.id,
    created: ctx.clock.now(),
    currency: charge.currency,
    customer: typeof charge.customer === "string" ? charge.customer : (charge.customer?.id ?? null),
    customer_account: null,
    payment_method: typeof charge.payment_method === "string" ? charge.payment_method : null,
    metadata,
    payment_intent: typeof charge.payment_intent === "string" ? charge.payment_intent : (charge.payment_intent?.id ?? null),
    reason: (reason as Stripe.Refund.Reason | undefined) ?? null,
    receipt_number: null,
    source_transfer_reversal: null,
    status: "succeeded",
    transfer_reversal: null,
  } satisfies Stripe.Refund;
  refundsOf(ctx)[refund.id] = refund;
  const previous = { amount_refunded: charge.amount_refunded, refunded: charge.refunded };
  charge.amount_refunded += amount;
  charge.refunded = charge.amount_refunded >= charge.amount;
  ctx.store.wrote();
  ctx.outbox.emit("refund.created", refund, ctx.req);
  ctx.outbox.emit("charge.refunded", charge, ctx.req, previous);
  return refund;
}

export const refundRoutes: Route[] = [
  {
    method: "POST",
    pattern: /^\/v1\/refunds$/,
    accepts: ACCEPTED.refundCreate,
    returns: "refund",
    handle: (ctx) => ({ body: createRefund(ctx) }),
  },
  {
    method: "GET",
    pattern: /^\/v1\/refunds\/([^/]+)$/,
    accepts: ACCEPTED.refundRetrieve,
    returns: "refund",
    handle: (ctx, m) => {
      const r = refundsOf(ctx)[m[1]!];
      if (!r) throw missing("refund", m[1]!);
      return { body: r };
    },
  },
  {
    method: "GET",
    pattern: /^\/v1\/refunds$/,
    accepts: ACCEPTED.refundList,
    returns: "list:refund",
    handle: (ctx) => {
      let all = Object.values(refundsOf(ctx)).reverse();
      if (typeof ctx.params.charge === "string") all = all.filter((r) => r.charge === ctx.params.charge);
      if (typeof ctx.params.payment_intent === "string") all = all.filter((r) => r.payment_intent === ctx.params.payment_intent);
      return { body: listOf("/v1/refunds", all, ctx.params) };
    },
  },
];
