import type Stripe from "stripe";
import type { Db, Tx } from "@/db/client";
import type { SQL } from "drizzle-orm";
import { lockPurchaseForIntent, settleFromPaymentIntent, type LockedPurchase } from "../../topups/settle";
import { oneCallBatcher } from "../../topups/settle-paid";
import type { Handler, HandlerResult } from "./types";

/**
 * Top-up paid: purchase succeeded, coupon redeemed, credits granted, campaigns resumed (the plain
 * case first tries `oneCall`, one round trip). A succeeded intent never changes state again, so
 * the event's copy is trusted (no round trip on the hot path). An amount or currency mismatch
 * marks the purchase needs_review and answers 200.
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
    // The plain paid top-up, whole, in one round trip, batched with the events arriving
    // meanwhile (lib/topups/settle-paid.ts); the handler above runs for everything else.
    oneCall: async (db: Db, event: Stripe.PaymentIntentSucceededEvent) => {
      const settled = await oneCallBatcher(db).settle(event);
      if (settled.outcome === "processed") return { result: "processed", detail: `purchase ${settled.purchaseId} succeeded` } as const;
      if (settled.outcome === "duplicate") return { result: "duplicate" } as const;
      return null;
    },
  },
);
