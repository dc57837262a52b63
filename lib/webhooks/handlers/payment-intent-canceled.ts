import type Stripe from "stripe";
import type { Tx } from "@/db/client";
import type { HandlerResult } from "./types";
import { settleFromCurrentIntent } from "./settle-current";

/** Checkout cancelled at Stripe: purchase canceled, coupon hold released (re-fetched first). */
export async function onPaymentIntentCanceled(tx: Tx, event: Stripe.PaymentIntentCanceledEvent): Promise<HandlerResult> {
  return settleFromCurrentIntent(tx, event.data.object);
}
