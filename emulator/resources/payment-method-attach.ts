// Attaching PaymentMethods to customers (POST /v1/payment_methods/:id/attach, /detach), as
// subscriptions need: a customer's or subscription's default payment method must be attached to
// that customer. A test id (pm_card_visa, pm_card_chargeCustomerFail, …) becomes a new pm_…
// attached one; a card that declines every charge (pm_card_visa_chargeDeclined …) cannot be
// attached (402 card_declined, as Stripe refuses it), except pm_card_chargeCustomerFail, which
// attaches and then declines every charge. Events: payment_method.attached / .detached.
import type Stripe from "stripe";
import { ApiError, invalidRequest, missing, parameterMissing } from "../errors";
import { str } from "../form";
import { accepts } from "../params";
import type { Ctx, Route } from "./context";
import { TEST_CARDS, usePaymentMethod } from "./payment-methods";

/** Throws unless `id` is a PaymentMethod attached to `customer` (Stripe's check for defaults). */
export function requireAttached(ctx: Pick<Ctx, "store">, id: string, customer: string, param: string): Stripe.PaymentMethod {
  const pm = ctx.store.state.paymentMethods[id];
  if (!pm) throw missing("PaymentMethod", id, param, 400);
  if (pm.customer !== customer) {
    throw invalidRequest(`The customer does not have a payment method with the ID ${id}. The payment method must be attached to the customer.`, { param, code: "resource_missing" });
  }
  return pm;
}

/** Attaches (a new PaymentMethod made from a test id, or a stored one) to a customer. */
export function attachPaymentMethod(ctx: Ctx, id: string, customer: string): Stripe.PaymentMethod {
  const test = TEST_CARDS[id];
  if (test && test.behaviour.kind === "decline" && id !== "pm_card_chargeCustomerFail") {
    throw new ApiError(402, { type: "card_error", code: test.behaviour.code, decline_code: test.behaviour.declineCode, message: test.behaviour.message, param: "" });
  }
  const pm = usePaymentMethod(ctx, id);
  if (pm.customer && pm.customer !== customer) throw invalidRequest("This PaymentMethod is already attached to another customer.", { code: "payment_method_unexpected_state" });
  if (pm.customer === customer) return pm;
  pm.customer = customer;
  ctx.store.wrote();
  ctx.outbox.emit("payment_method.attached", pm, ctx.req);
  return pm;
}

export const paymentMethodAttachRoutes: Route[] = [
  {
    method: "POST",
    pattern: /^\/v1\/payment_methods\/([^/]+)\/attach$/,
    accepts: accepts<Stripe.PaymentMethodAttachParams>()(["customer", "customer_account", "expand"]),
    returns: "payment_method",
    handle: (ctx, m) => {
      const customer = str(ctx.params.customer);
      if (!customer) throw parameterMissing("customer");
      if (!ctx.store.state.customers[customer]) throw missing("customer", customer, "customer");
      if (!TEST_CARDS[m[1]!] && !ctx.store.state.paymentMethods[m[1]!]) throw missing("PaymentMethod", m[1]!);
      return { body: attachPaymentMethod(ctx, m[1]!, customer) };
    },
  },
  {
    method: "POST",
    pattern: /^\/v1\/payment_methods\/([^/]+)\/detach$/,
    accepts: accepts<Stripe.PaymentMethodDetachParams>()(["expand"]),
    returns: "payment_method",
    handle: (ctx, m) => {
      const pm = ctx.store.state.paymentMethods[m[1]!];
      if (!pm) throw missing("PaymentMethod", m[1]!);
      if (!pm.customer) throw invalidRequest("The payment method you provided is not attached to a customer so detachment is impossible.", { code: "payment_method_unexpected_state" });
      const previous = { customer: pm.customer };
      pm.customer = null;
      ctx.store.wrote();
      ctx.outbox.emit("payment_method.detached", pm, ctx.req, previous);
      return { body: pm };
    },
  },
];
