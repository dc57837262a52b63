// The allow-list of event types we act on, one small handler each.
import type Stripe from "stripe";
import type { Tx } from "@/db/client";
import { onPaymentIntentSucceeded } from "./payment-intent-succeeded";
import { onPaymentIntentPaymentFailed } from "./payment-intent-payment-failed";
import { onPaymentIntentCanceled } from "./payment-intent-canceled";

/**
 * A handler writes only through `tx`. Calls to Stripe that must follow a committed change go in
 * `afterCommit`, which runs once the transaction has committed (best effort: a failure there is
 * logged, the event stays processed).
 */
export type HandlerResult = { detail: string; afterCommit?: () => Promise<void> };
type Handler<E extends Stripe.Event> = (tx: Tx, event: E) => Promise<HandlerResult>;
type HandlerMap = { [T in Stripe.Event["type"]]?: Handler<Extract<Stripe.Event, { type: T }>> };

export const handlers: HandlerMap = {
  "payment_intent.succeeded": onPaymentIntentSucceeded,
  "payment_intent.payment_failed": onPaymentIntentPaymentFailed,
  "payment_intent.canceled": onPaymentIntentCanceled,
};

export function handlerFor(event: Stripe.Event): Handler<Stripe.Event> | undefined {
  return handlers[event.type] as Handler<Stripe.Event> | undefined;
}
