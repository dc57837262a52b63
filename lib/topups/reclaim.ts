// Frees coupon holds of abandoned checkouts, safely: a hold is released only after Stripe has
// confirmed its PaymentIntent is cancelled (so it can never succeed later and push the coupon
// past its cap). An intent found succeeded is finalised instead.
import { eq } from "drizzle-orm";
import type { Db } from "@/db/client";
import { purchases } from "@/db/schema";
import { HOLD_TTL_MS, findCoupon, staleHolds } from "../coupons/service";
import { cancelPaymentIntent, retrievePaymentIntent } from "../stripe/payment-intents";
import { releaseHold, settleFromPaymentIntent } from "./settle";
import { sql, and } from "drizzle-orm";

export async function reclaimStaleHolds(db: Db, couponCode: string, olderThanMs = HOLD_TTL_MS): Promise<number> {
  const coupon = await findCoupon(db, couponCode);
  if (!coupon || coupon.maxRedemptions === null) return 0;
  let reclaimed = 0;
  for (const hold of await staleHolds(db, coupon.id, olderThanMs)) {
    try {
      if (!hold.paymentIntentId) {
        // No PaymentIntent was ever created: nothing can be charged.
        await db.transaction(async (tx) => {
          await tx
            .update(purchases)
            .set({ status: "canceled", failureCode: "abandoned", failureMessage: "Checkout was abandoned.", finalizedAt: sql`now()`, updatedAt: sql`now()` })
            .where(and(eq(purchases.id, hold.purchaseId), eq(purchases.status, "pending")));
          await releaseHold(tx, hold.purchaseId);
        });
        reclaimed++;
        continue;
      }
      let pi = await retrievePaymentIntent(hold.paymentIntentId);
      if (pi.status !== "succeeded" && pi.status !== "canceled" && pi.status !== "processing") {
        pi = await cancelPaymentIntent(pi.id, hold.purchaseId);
      }
      const result = await db.transaction((tx) => settleFromPaymentIntent(tx, pi));
      if (result?.changed && pi.status === "canceled") reclaimed++;
    } catch (e) {
      console.warn("[coupons] could not reclaim hold", { purchaseId: hold.purchaseId, error: String(e) });
    }
  }
  return reclaimed;
}
