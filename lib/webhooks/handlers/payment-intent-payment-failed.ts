import type Stripe from "stripe";
import type { Tx } from "@/db/client";
import { settleFromPaymentIntent } from "../../topups/settle";

/** Payment declined: purchase failed with the decline reason, coupon hold released. */
export async function onPaymentIntentPaymentFailed(tx: Tx, event: Stripe.PaymentIntentPaymentFailedEvent): Promise<string> {
  const result = await settleFromPaymentIntent(tx, event.data.object);
  if (!result) return "no purchase for this PaymentIntent";
  return result.changed ? `purchase ${result.purchase.id} ${result.purchase.status}` : `purchase ${result.purchase.id} already ${result.purchase.status}`;
}
