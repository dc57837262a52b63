// Price of a pack with an optional coupon, shown before paying. Same rules and throttle as
// checkout; nothing is held. Abandoned holds of the coupon (older than the TTL) are reclaimed
// first, so a capped coupon is not shown as used up by checkouts nobody will pay.
import { and, eq } from "drizzle-orm";
import type { Db } from "@/db/client";
import { creditPacks } from "@/db/schema";
import { AppError } from "../errors";
import { checkCouponGuess, evaluateCouponFor } from "../coupons/service";
import { reclaimStaleHolds } from "./reclaim";

export type TopUpQuote = {
  packId: string;
  credits: number;
  subtotal: number;
  discount: number;
  total: number;
  currency: string;
  couponCode: string | null;
  couponDescription: string | null;
};

export async function quoteTopUp(db: Db, p: { orgId: string; packId: string; couponCode?: string | null }): Promise<TopUpQuote> {
  const [pack] = await db
    .select()
    .from(creditPacks)
    .where(and(eq(creditPacks.id, p.packId), eq(creditPacks.active, true)));
  if (!pack) throw new AppError("not_found", "That credit pack is no longer available.");
  const base = { packId: pack.id, credits: pack.credits, subtotal: pack.amount, currency: pack.currency };
  const code = p.couponCode?.trim();
  if (!code) return { ...base, discount: 0, total: pack.amount, couponCode: null, couponDescription: null };

  await checkCouponGuess(db, p.orgId, code);
  await reclaimStaleHolds(db, code, { limit: 5 });
  const { coupon, evaluation } = await evaluateCouponFor(db, { code, orgId: p.orgId, subtotal: pack.amount, currency: pack.currency, preview: true });
  if (!evaluation.ok) {
    throw new AppError("coupon_invalid", evaluation.message, { reason: evaluation.reason });
  }
  return { ...base, discount: evaluation.discount, total: evaluation.total, couponCode: coupon!.code, couponDescription: coupon!.description };
}
