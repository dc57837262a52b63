import type Stripe from "stripe";
import type { Tx } from "@/db/client";
import type { SQL } from "drizzle-orm";
import { lockPurchaseForIntent, settleFromPaymentIntent, type LockedPurchase } from "../../topups/settle";
import type { Handler, HandlerResult } from "./types";

/**
 * Top-up paid: purchase succeeded, coupon redeemed, credits granted, campaigns resumed. A
 * succeeded intent never changes state again, so the event's copy is trusted (no round trip on
 * the hot path). An amount or currency mismatch marks the purchase needs_review and answers 200.
 */
export const onPaymentIntentSucceeded: Handler<Stripe.PaymentIntentSucceededEvent> = Object.assign(
  async (tx: Tx, event: Stripe.PaymentIntentSucceededEvent, early?: unknown): Promise<HandlerResult> => {
    const result = await settleFromPaymentIntent(tx, event.data.object, early as LockedPurchase | undefined);
    if (!result) return { detail: "no purchase for this PaymentIntent" };
    return { detail: result.changed ? `purchase ${result.purchase.id} ${result.purchase.status}` : `purchase ${result.purchase.id} already ${result.purchase.status}` };
  },
  {
    // The purchase lock travels with the claim (one round trip less on the hot path).
    early: (tx: Tx, event: Stripe.PaymentIntentSucceededEvent, claimed: SQL) => lockPurchaseForIntent(tx, event.data.object, claimed),
  },
);
