// Frees coupon holds of abandoned checkouts, safely (rules in lib/coupons/redemptions.ts):
// - a checkout with a linked PaymentIntent: the intent is cancelled at Stripe and the purchase
//   settled from what Stripe then reports — the hold goes only if Stripe says "canceled"; an
//   intent found succeeded is finalised instead (credits granted, coupon redeemed);
// - a checkout with no linked intent and older than the TTL: closed by a guarded update (pending
//   and still unlinked), after which no intent of ours can be linked, so no client secret for it
//   can ever be handed out; a fresh unlinked hold is never touched (its checkout may be linking
//   its intent right now). A hosted checkout's page is not closed by this (its session stays open
//   until it expires): a payment made there later is still granted and its hold redeemed again
//   (lib/topups/settle.ts lockPurchaseForIntent, lib/topups/start.ts linkCompletedCheckout).
// Who calls it: the scheduled job coupons.reclaim-abandoned-holds (every coupon, every org), the
// price preview and the checkout (for the coupon being used; at once for the organisation's own
// linked holds — it walked away from that checkout).
import type { Db } from "@/db/client";
import { HOLD_TTL_MS, findCoupon, reclaimableHolds, type ReclaimableHold } from "../coupons/service";
import { log } from "../log";
import { cancelIntentAndSettle } from "./cancel";
import { closeUnlinkedPurchase } from "./settle";

async function reclaimOne(db: Db, hold: ReclaimableHold, olderThanMs: number): Promise<boolean> {
  if (!hold.paymentIntentId) {
    if (Date.now() - hold.createdAt.getTime() < olderThanMs) return false;
    const closed = await db.transaction((tx) =>
      closeUnlinkedPurchase(tx, hold.purchaseId, { code: "abandoned", message: "Checkout was abandoned." }),
    );
    return Boolean(closed);
  }
  const { paymentIntent, result } = await cancelIntentAndSettle(db, hold.purchaseId, hold.paymentIntentId);
  return paymentIntent.status === "canceled" && Boolean(result?.changed);
}

async function reclaim(db: Db, holds: ReclaimableHold[], olderThanMs: number): Promise<number> {
  let reclaimed = 0;
  for (const hold of holds) {
    try {
      if (await reclaimOne(db, hold, olderThanMs)) reclaimed++;
    } catch (e) {
      // The hold stays; the next sweep (or checkout, or preview) tries again.
      log.warn({ purchaseId: hold.purchaseId, paymentIntentId: hold.paymentIntentId, err: e }, "could not reclaim coupon hold");
    }
  }
  return reclaimed;
}

/** Reclaims what can be reclaimed for one coupon (checkout and price preview). */
export async function reclaimStaleHolds(
  db: Db,
  couponCode: string,
  opts: { olderThanMs?: number; orgId?: string; limit?: number } = {},
): Promise<number> {
  const coupon = await findCoupon(db, couponCode);
  if (!coupon) return 0;
  const olderThanMs = opts.olderThanMs ?? HOLD_TTL_MS;
  const holds = await reclaimableHolds(db, { couponId: coupon.id, olderThanMs, orgId: opts.orgId, limit: opts.limit ?? 20 });
  return reclaim(db, holds, olderThanMs);
}

/** Job coupons.reclaim-abandoned-holds: every coupon's holds older than the TTL. */
export async function reclaimAllAbandonedHolds(db: Db, opts: { olderThanMs?: number } = {}): Promise<number> {
  const olderThanMs = opts.olderThanMs ?? HOLD_TTL_MS;
  return reclaim(db, await reclaimableHolds(db, { olderThanMs, limit: 500 }), olderThanMs);
}
