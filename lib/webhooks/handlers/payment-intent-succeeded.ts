import type Stripe from "stripe";
import type { Tx } from "@/db/client";
import { settleFromPaymentIntent } from "../../topups/settle";
import type { HandlerResult } from "./index";

/** Top-up paid: purchase succeeded, coupon redeemed, credits granted, campaigns resumed. */
export async function onPaymentIntentSucceeded(tx: Tx, event: Stripe.PaymentIntentSucceededEvent): Promise<HandlerResult> {
  const result = await settleFromPaymentIntent(tx, event.data.object);
  if (!result) return { detail: "no purchase for this PaymentIntent" };
  return { detail: result.changed ? `purchase ${result.purchase.id} succeeded` : `purchase ${result.purchase.id} already ${result.purchase.status}` };
}
