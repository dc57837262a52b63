// Frees coupon holds of abandoned checkouts, safely: a hold is released only after Stripe has
// confirmed its PaymentIntent is cancelled (so it can never succeed later and push the coupon
// past its cap). An intent found succeeded is finalised instead. Holds are reclaimable after
// HOLD_TTL_MS, and at once when the same organisation starts a new checkout with the coupon
// (it walked away from the old one; otherwise a once-per-organisation code would lock it out).
import type { Db } from "@/db/client";
import { HOLD_TTL_MS, findCoupon, staleHolds } from "../coupons/service";
import { cancelIntentAndSettle } from "./cancel";
import { closePendingPurchase } from "./settle";

export async function reclaimStaleHolds(
  db: Db,
  couponCode: string,
  opts: { olderThanMs?: number; orgId?: string } = {},
): Promise<number> {
  const coupon = await findCoupon(db, couponCode);
  if (!coupon) return 0;
  let reclaimed = 0;
  for (const hold of await staleHolds(db, coupon.id, { olderThanMs: opts.olderThanMs ?? HOLD_TTL_MS, orgId: opts.orgId })) {
    try {
      if (!hold.paymentIntentId) {
        // No PaymentIntent was ever created: nothing can be charged.
        const closed = await db.transaction((tx) =>
          closePendingPurchase(tx, hold.purchaseId, "canceled", { code: "abandoned", message: "Checkout was abandoned." }),
        );
        if (closed) reclaimed++;
        continue;
      }
      const { paymentIntent, result } = await cancelIntentAndSettle(db, hold.purchaseId, hold.paymentIntentId);
      if (result?.changed && paymentIntent.status === "canceled") reclaimed++;
    } catch (e) {
      console.warn("[coupons] could not reclaim hold", { purchaseId: hold.purchaseId, error: String(e) });
    }
  }
  return reclaimed;
}
