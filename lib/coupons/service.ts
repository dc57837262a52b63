// Coupon look-ups against the database: facts for the pure rules, the wrong-code throttle, and
// reclaiming holds of abandoned purchases. Holds are taken by lib/topups/start.ts under a row
// lock on the coupon, which is what keeps the redemption cap exact under concurrency.
import { and, eq, gte, inArray, lt, sql } from "drizzle-orm";
import type { Db, DbOrTx, Tx } from "@/db/client";
import { couponAttempts, couponRedemptions, coupons, purchases, type Coupon } from "@/db/schema";
import { AppError } from "../errors";
import { COUPON_FAILURE_WINDOW_MS, couponThrottle, evaluateCoupon, normalizeCouponCode, type CouponEvaluation } from "./rules";

export async function findCoupon(db: DbOrTx, rawCode: string, opts: { lock?: boolean } = {}): Promise<Coupon | undefined> {
  const q = db.select().from(coupons).where(eq(coupons.code, normalizeCouponCode(rawCode)));
  const [row] = opts.lock ? await q.for("update") : await q;
  return row;
}

export async function couponFacts(db: DbOrTx, coupon: Coupon | undefined, orgId: string) {
  const [inUse] = coupon
    ? await db
        .select({ n: sql<number>`count(*)::int` })
        .from(couponRedemptions)
        .where(and(eq(couponRedemptions.couponId, coupon.id), inArray(couponRedemptions.status, ["held", "redeemed"])))
    : [{ n: 0 }];
  const [orgUsed] = coupon
    ? await db
        .select({ n: sql<number>`count(*)::int` })
        .from(couponRedemptions)
        .where(
          and(
            eq(couponRedemptions.couponId, coupon.id),
            eq(couponRedemptions.orgId, orgId),
            inArray(couponRedemptions.status, ["held", "redeemed"]),
          ),
        )
    : [{ n: 0 }];
  const [purchased] = await db
    .select({ n: sql<number>`count(*)::int` })
    .from(purchases)
    .where(and(eq(purchases.orgId, orgId), eq(purchases.status, "succeeded")));
  return { redemptionsInUse: inUse!.n, orgHasUsedCoupon: orgUsed!.n > 0, orgHasPurchased: purchased!.n > 0 };
}

export async function evaluateCouponFor(
  db: DbOrTx,
  p: { code: string; orgId: string; subtotal: number; currency: string; lock?: boolean },
): Promise<{ coupon: Coupon | undefined; evaluation: CouponEvaluation }> {
  const coupon = await findCoupon(db, p.code, { lock: p.lock });
  const facts = await couponFacts(db, coupon, p.orgId);
  const evaluation = evaluateCoupon(coupon ?? null, { ...facts, now: new Date(), subtotal: p.subtotal, currency: p.currency }, p.code);
  return { coupon, evaluation };
}

/** Throws rate_limited when the organisation has entered too many unknown codes lately. */
export async function assertNotThrottled(db: DbOrTx, orgId: string): Promise<void> {
  const since = new Date(Date.now() - COUPON_FAILURE_WINDOW_MS);
  const rows = await db
    .select({ at: couponAttempts.createdAt })
    .from(couponAttempts)
    .where(and(eq(couponAttempts.orgId, orgId), gte(couponAttempts.createdAt, since)));
  const verdict = couponThrottle(
    rows.map((r) => r.at),
    new Date(),
  );
  if (verdict.limited) throw new AppError("rate_limited", verdict.message, { retryAfterMs: verdict.retryAfterMs });
}

/** Unknown codes count towards the throttle; real codes refused for a rule do not. */
export async function recordWrongCode(db: DbOrTx, orgId: string, rawCode: string): Promise<void> {
  await db.insert(couponAttempts).values({ orgId, code: normalizeCouponCode(rawCode).slice(0, 64) });
}

/** A pending purchase's hold counts against the cap for this long before it can be reclaimed. */
export const HOLD_TTL_MS = 30 * 60 * 1000;

export async function staleHolds(db: DbOrTx, couponId: string, olderThanMs: number) {
  return db
    .select({ purchaseId: couponRedemptions.purchaseId, paymentIntentId: purchases.stripePaymentIntentId })
    .from(couponRedemptions)
    .innerJoin(purchases, eq(purchases.id, couponRedemptions.purchaseId))
    .where(
      and(
        eq(couponRedemptions.couponId, couponId),
        eq(couponRedemptions.status, "held"),
        lt(couponRedemptions.createdAt, new Date(Date.now() - olderThanMs)),
      ),
    );
}

export type { Db, Tx };
