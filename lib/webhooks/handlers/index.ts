// The allow-list of event types we act on, one small handler each.
import type Stripe from "stripe";
import type { Handler } from "./types";
import { onPaymentIntentSucceeded } from "./payment-intent-succeeded";
import { onPaymentIntentPaymentFailed } from "./payment-intent-payment-failed";
import { onPaymentIntentCanceled } from "./payment-intent-canceled";
import { onChargeRefunded } from "./charge-refunded";
import { onChargeDispute } from "./charge-dispute";

export type { Handler, HandlerResult } from "./types";

type HandlerMap = { [T in Stripe.Event["type"]]?: Handler<Extract<Stripe.Event, { type: T }>> };

export const handlers: HandlerMap = {
  "payment_intent.succeeded": onPaymentIntentSucceeded,
  "payment_intent.payment_failed": onPaymentIntentPaymentFailed,
  "payment_intent.canceled": onPaymentIntentCanceled,
  "charge.refunded": onChargeRefunded,
  "charge.dispute.created": onChargeDispute,
  "charge.dispute.closed": onChargeDispute,
};

export function handlerFor(event: Stripe.Event): Handler<Stripe.Event> | undefined {
  return handlers[event.type] as Handler<Stripe.Event> | undefined;
}
