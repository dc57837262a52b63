import type Stripe from "stripe";
import type { Tx } from "@/db/client";
import { settleFromPaymentIntent } from "../../topups/settle";

/** Checkout abandoned or cancelled: purchase canceled, coupon hold released. */
export async function onPaymentIntentCanceled(tx: Tx, event: Stripe.PaymentIntentCanceledEvent): Promise<string> {
  const result = await settleFromPaymentIntent(tx, event.data.object);
  if (!result) return "no purchase for this PaymentIntent";
  return `purchase ${result.purchase.id} ${result.purchase.status}`;
}
