// Every write to coupon_redemptions: hold (at checkout), redeem (payment succeeded), release
// (payment cancelled at Stripe). The rules of when, in one place:
// - hold: taken by the checkout in the transaction that creates the purchase, while it holds
//   the coupon's row lock (lib/coupons/service.ts evaluateCouponFor with lock), so the cap, the
//   once-per-organisation rule and "one first-purchase checkout at a time" are exact under
//   concurrent checkouts;
// - release: only when the purchase's PaymentIntent is `canceled` at Stripe, or when the purchase
//   provably never had one the customer could pay (lib/topups/reclaim.ts, lib/topups/start.ts) —
//   never on a decline alone, because the browser can still confirm a declined intent;
// - redeem: on success. Money in ⇒ credits in, so a success whose hold had been released is still
//   redeemed; the limits are checked again under the coupon lock and, if they are now exceeded,
//   the redemption is marked as an over-redemption for staff (app/staff) instead of refused.
//   A first-purchase-only coupon is checked on every success, held or released: a hold does not
//   stop the organisation from buying without a code meanwhile, so if another of its purchases
//   has succeeded, this one was not its first — honoured (it was charged the discounted price) and
//   flagged "first_purchase_only".
import { and, eq, inArray, ne, sql } from "drizzle-orm";
import type { Tx } from "@/db/client";
import { couponRedemptions, coupons, purchases } from "@/db/schema";
import { log } from "../log";

export async function holdRedemption(tx: Tx, p: { couponId: string; orgId: string; purchaseId: string }): Promise<void> {
  await tx.insert(couponRedemptions).values({ couponId: p.couponId, orgId: p.orgId, purchaseId: p.purchaseId, status: "held" });
}

/** Releases the purchase's hold (if it still has one). Call only under the rules above. */
export async function releaseHold(tx: Tx, purchaseId: string): Promise<boolean> {
  const released = await tx
    .update(couponRedemptions)
    .set({ status: "released", updatedAt: sql`now()` })
    .where(and(eq(couponRedemptions.purchaseId, purchaseId), eq(couponRedemptions.status, "held")))
    .returning({ id: couponRedemptions.id });
  return released.length > 0;
}

export type RedeemResult = { redeemed: boolean; overRedemption: string | null };

/** The purchase succeeded: its redemption (if any) becomes redeemed, checked against the limits. */
export async function redeemForPurchase(tx: Tx, purchaseId: string): Promise<RedeemResult> {
  const [found] = await tx
    .select({ row: couponRedemptions, firstPurchaseOnly: coupons.firstPurchaseOnly })
    .from(couponRedemptions)
    .innerJoin(coupons, eq(coupons.id, couponRedemptions.couponId))
    .where(eq(couponRedemptions.purchaseId, purchaseId))
    .for("update", { of: couponRedemptions });
  if (!found) return { redeemed: false, overRedemption: null };
  const { row } = found;
  if (row.status === "redeemed") return { redeemed: false, overRedemption: row.overRedemption };
  let overRedemption: string | null = null;
  if (row.status === "released") {
    // The hold stopped counting while this payment went through: take the coupon lock (as a
    // checkout does) and see whether counting it again breaks a limit.
    const [coupon] = await tx.select().from(coupons).where(eq(coupons.id, row.couponId)).for("update");
    const inUse = (forOrg: boolean) =>
      tx
        .select({ n: sql<number>`count(*)::int` })
        .from(couponRedemptions)
        .where(
          and(
            eq(couponRedemptions.couponId, row.couponId),
            inArray(couponRedemptions.status, ["held", "redeemed"]),
            ne(couponRedemptions.id, row.id),
            forOrg ? eq(couponRedemptions.orgId, row.orgId) : undefined,
          ),
        );
    const [all] = await inUse(false);
    const [ofOrg] = await inUse(true);
    if (coupon?.maxRedemptions != null && all!.n >= coupon.maxRedemptions) overRedemption = "max_redemptions";
    else if (coupon?.oncePerOrg && ofOrg!.n > 0) overRedemption = "once_per_org";
  }
  if (!overRedemption && found.firstPurchaseOnly) {
    // This purchase may already read succeeded in this transaction (settle.ts updates it first).
    const [other] = await tx
      .select({ n: sql<number>`count(*)::int` })
      .from(purchases)
      .where(and(eq(purchases.orgId, row.orgId), eq(purchases.status, "succeeded"), ne(purchases.id, purchaseId)));
    if (other!.n > 0) overRedemption = "first_purchase_only";
  }
  if (overRedemption) log.warn({ purchaseId, couponId: row.couponId, orgId: row.orgId, overRedemption }, "coupon over-redeemed: honoured (the payment was made at the discounted price), flagged for staff");
  await tx
    .update(couponRedemptions)
    .set({ status: "redeemed", overRedemption, updatedAt: sql`now()` })
    .where(eq(couponRedemptions.id, row.id));
  return { redeemed: true, overRedemption };
}
