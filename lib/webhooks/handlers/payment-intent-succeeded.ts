import type Stripe from "stripe";
import type { Tx } from "@/db/client";
import { settleFromPaymentIntent } from "../../topups/settle";
import type { HandlerResult } from "./types";

/**
 * Top-up paid: purchase succeeded, coupon redeemed, credits granted, campaigns resumed. A
 * succeeded intent never changes state again, so the event's copy is trusted (no round trip on
 * the hot path). An amount or currency mismatch marks the purchase needs_review and answers 200.
 */
export async function onPaymentIntentSucceeded(tx: Tx, event: Stripe.PaymentIntentSucceededEvent): Promise<HandlerResult> {
  const result = await settleFromPaymentIntent(tx, event.data.object);
  if (!result) return { detail: "no purchase for this PaymentIntent" };
  return { detail: result.changed ? `purchase ${result.purchase.id} ${result.purchase.status}` : `purchase ${result.purchase.id} already ${result.purchase.status}` };
}
