import type Stripe from "stripe";
import type { Tx } from "@/db/client";
import type { HandlerResult } from "./types";
import { settleFromCurrentIntent } from "./settle-current";

/**
 * Payment declined: purchase failed with the decline reason, and a job (same transaction)
 * cancels the intent at Stripe so the client secret cannot be confirmed again later; the coupon
 * hold is released when that cancel has succeeded. Acts on the intent as Stripe reports it now.
 */
export async function onPaymentIntentPaymentFailed(tx: Tx, event: Stripe.PaymentIntentPaymentFailedEvent): Promise<HandlerResult> {
  return settleFromCurrentIntent(tx, event.data.object);
}
