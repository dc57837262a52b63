import type Stripe from "stripe";
import type { Tx } from "@/db/client";
import { settleFromPaymentIntent } from "../../topups/settle";

/** Top-up paid: purchase succeeded, coupon redeemed, credits granted, campaigns resumed. */
export async function onPaymentIntentSucceeded(tx: Tx, event: Stripe.PaymentIntentSucceededEvent): Promise<string> {
  const result = await settleFromPaymentIntent(tx, event.data.object);
  if (!result) return "no purchase for this PaymentIntent";
  return result.changed ? `purchase ${result.purchase.id} succeeded` : `purchase ${result.purchase.id} already ${result.purchase.status}`;
}
