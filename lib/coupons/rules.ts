// Pure coupon rules: whether a coupon applies to a purchase, and the discount it gives.
// Every refusal has its own code and a message the person paying can act on.
import { formatMoney, minimumCharge, percentOf } from "../money/money";

export type CouponTerms = {
  code: string;
  active: boolean;
  percentOff: number | null;
  amountOff: number | null;
  currency: string | null;
  maxRedemptions: number | null;
  expiresAt: Date | null;
  firstPurchaseOnly: boolean;
  oncePerOrg: boolean;
};

export type CouponFacts = {
  now: Date;
  /** Redemptions that count against the cap: redeemed plus currently held. */
  redemptionsInUse: number;
  /** The organisation already has a succeeded purchase. */
  orgHasPurchased: boolean;
  /**
   * The organisation has another checkout under way with a first-purchase-only coupon (a live
   * hold, or a pending purchase): only one of them can be its first purchase.
   */
  orgHasFirstPurchaseInProgress: boolean;
  /** The organisation holds or has redeemed this coupon already. */
  orgHasUsedCoupon: boolean;
  subtotal: number;
  currency: string;
};

export type CouponRefusal =
  | "not_found"
  | "inactive"
  | "expired"
  | "exhausted"
  | "first_purchase_only"
  | "first_purchase_in_progress"
  | "already_used"
  | "currency_mismatch"
  | "below_minimum";

export type CouponEvaluation =
  | { ok: true; discount: number; total: number }
  | { ok: false; reason: CouponRefusal; message: string };

export function normalizeCouponCode(raw: string): string {
  return raw.trim().toUpperCase();
}

export function refusalMessage(
  reason: CouponRefusal,
  ctx: { code: string; expiresAt?: Date | null; currency?: string | null; purchaseCurrency?: string },
): string {
  switch (reason) {
    case "not_found":
      return `We don't recognise the code “${ctx.code}”. Check it and try again.`;
    case "inactive":
      return `The code “${ctx.code}” is no longer active.`;
    case "expired":
      return `The code “${ctx.code}” expired on ${ctx.expiresAt ? ctx.expiresAt.toLocaleDateString("en-US", { dateStyle: "medium", timeZone: "UTC" }) : "an earlier date"}.`;
    case "exhausted":
      return `The code “${ctx.code}” has reached its redemption limit.`;
    case "first_purchase_only":
      return `The code “${ctx.code}” only applies to your organisation's first purchase.`;
    case "first_purchase_in_progress":
      return `The code “${ctx.code}” only applies to your organisation's first purchase, and another checkout with a first-purchase code is already under way. Complete that one, or try again once it has expired (30 minutes).`;
    case "already_used":
      return `Your organisation has already used the code “${ctx.code}”.`;
    case "currency_mismatch":
      return `The code “${ctx.code}” only applies to ${(ctx.currency ?? "").toUpperCase()} purchases.`;
    case "below_minimum":
      return `With “${ctx.code}” the total would fall below the minimum charge of ${formatMoney(minimumCharge(ctx.purchaseCurrency ?? "usd"), ctx.purchaseCurrency ?? "usd")}.`;
  }
}

export function discountFor(coupon: CouponTerms, subtotal: number): number {
  if (coupon.percentOff !== null) return percentOf(subtotal, coupon.percentOff);
  return Math.min(coupon.amountOff ?? 0, subtotal);
}

export function evaluateCoupon(coupon: CouponTerms | null, facts: CouponFacts, rawCode = ""): CouponEvaluation {
  const refuse = (reason: CouponRefusal): CouponEvaluation => ({
    ok: false,
    reason,
    message: refusalMessage(reason, {
      code: coupon?.code ?? normalizeCouponCode(rawCode),
      expiresAt: coupon?.expiresAt,
      currency: coupon?.currency,
      purchaseCurrency: facts.currency,
    }),
  });
  if (!coupon) return refuse("not_found");
  if (!coupon.active) return refuse("inactive");
  if (coupon.expiresAt && coupon.expiresAt.getTime() <= facts.now.getTime()) return refuse("expired");
  if (coupon.amountOff !== null && coupon.currency !== facts.currency) return refuse("currency_mismatch");
  if (coupon.oncePerOrg && facts.orgHasUsedCoupon) return refuse("already_used");
  if (coupon.firstPurchaseOnly && facts.orgHasPurchased) return refuse("first_purchase_only");
  if (coupon.firstPurchaseOnly && facts.orgHasFirstPurchaseInProgress) return refuse("first_purchase_in_progress");
  if (coupon.maxRedemptions !== null && facts.redemptionsInUse >= coupon.maxRedemptions) return refuse("exhausted");
  const discount = discountFor(coupon, facts.subtotal);
  const total = facts.subtotal - discount;
  // The purchase's own currency decides the minimum (¥50 is not $0.50).
  if (total < minimumCharge(facts.currency)) return refuse("below_minimum");
  return { ok: true, discount, total };
}

/** Throttle for wrong codes: at most this many failed entries per organisation per window. */
export const COUPON_FAILURE_LIMIT = 5;
export const COUPON_FAILURE_WINDOW_MS = 15 * 60 * 1000;

export function couponThrottle(failuresInWindow: Date[], now: Date): { limited: false } | { limited: true; retryAfterMs: number; message: string } {
  const recent = failuresInWindow
    .filter((d) => now.getTime() - d.getTime() < COUPON_FAILURE_WINDOW_MS)
    .sort((a, b) => a.getTime() - b.getTime());
  if (recent.length < COUPON_FAILURE_LIMIT) return { limited: false };
  // The window frees up when the oldest counted failure ages out.
  const oldest = recent[recent.length - COUPON_FAILURE_LIMIT]!;
  const retryAfterMs = oldest.getTime() + COUPON_FAILURE_WINDOW_MS - now.getTime();
  const minutes = Math.max(1, Math.ceil(retryAfterMs / 60_000));
  return {
    limited: true,
    retryAfterMs,
    message: `Too many invalid coupon codes. Try again in ${minutes} minute${minutes === 1 ? "" : "s"}.`,
  };
}
