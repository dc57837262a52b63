// Coupon look-ups against the database: facts for the pure rules, the wrong-code throttle
// (checkCouponGuess, atomic under parallel guesses), and which holds may be reclaimed. Every write
// to redemptions is in lib/coupons/redemptions.ts; holds are taken by lib/topups/start.ts under a
// row lock on the coupon, which keeps the cap exact — and, for a first-purchase-only coupon, also
// under an advisory lock on the organisation, which keeps "first purchase" to one checkout at a
// time across different such codes.
import { and, eq, gte, inArray, isNotNull, lt, or, sql } from "drizzle-orm";
import type { Db, DbOrTx, Tx } from "@/db/client";
import { couponAttempts, couponRedemptions, coupons, purchases, type Coupon } from "@/db/schema";
import { AppError } from "../errors";
import { advisoryXactLock, LOCK_NAMESPACE } from "../locks";
import { COUPON_FAILURE_WINDOW_MS, couponThrottle, evaluateCoupon, normalizeCouponCode, type CouponEvaluation } from "./rules";

export async function findCoupon(db: DbOrTx, rawCode: string, opts: { lock?: boolean } = {}): Promise<Coupon | undefined> {
  const q = db.select().from(coupons).where(eq(coupons.code, normalizeCouponCode(rawCode)));
  const [row] = opts.lock ? await q.for("update") : await q;
  return row;
}

/**
 * Facts for the pure rules. With `ownHoldsReclaimable`, the organisation's own pending holds
 * are not counted: starting a checkout reclaims them first (lib/topups/reclaim.ts), so a
 * preview must not refuse a code only because of a checkout this organisation walked away from.
 * orgHasPurchased counts succeeded purchases only, so a first-purchase-only coupon also needs
 * orgHasFirstPurchaseInProgress: another live hold (held: pending, failed until its intent is
 * cancelled, in review) or pending purchase with a first-purchase-only coupon — otherwise two
 * checkouts started before either is paid would both pass.
 */
export async function couponFacts(db: DbOrTx, coupon: Coupon | undefined, orgId: string, opts: { ownHoldsReclaimable?: boolean } = {}) {
  const counted = (forOrg: boolean) =>
    db
      .select({ n: sql<number>`count(*)::int` })
      .from(couponRedemptions)
      .where(
        and(
          eq(couponRedemptions.couponId, coupon!.id),
          forOrg ? eq(couponRedemptions.orgId, orgId) : undefined,
          opts.ownHoldsReclaimable
            ? sql`(${couponRedemptions.status} = 'redeemed' or (${couponRedemptions.status} = 'held' and ${couponRedemptions.orgId} <> ${orgId}))`
            : inArray(couponRedemptions.status, ["held", "redeemed"]),
        ),
      );
  const [inUse] = coupon ? await counted(false) : [{ n: 0 }];
  const [orgUsed] = coupon ? await counted(true) : [{ n: 0 }];
  const [purchased] = await db
    .select({ n: sql<number>`count(*)::int` })
    .from(purchases)
    .where(and(eq(purchases.orgId, orgId), eq(purchases.status, "succeeded")));
  const firstInProgress = coupon?.firstPurchaseOnly && !opts.ownHoldsReclaimable ? await firstPurchaseInProgress(db, orgId) : false;
  return { redemptionsInUse: inUse!.n, orgHasUsedCoupon: orgUsed!.n > 0, orgHasPurchased: purchased!.n > 0, orgHasFirstPurchaseInProgress: firstInProgress };
}

async function firstPurchaseInProgress(db: DbOrTx, orgId: string): Promise<boolean> {
  const [row] = await db.execute<{ yes: boolean }>(sql`
    select exists (
      select 1 from ${couponRedemptions} r join ${coupons} c on c.id = r.coupon_id
      where r.org_id = ${orgId} and r.status = 'held' and c.first_purchase_only
    ) or exists (
      select 1 from ${purchases} p join ${coupons} c on c.id = p.coupon_id
      where p.org_id = ${orgId} and p.status = 'pending' and c.first_purchase_only
    ) as yes`);
  return Boolean(row?.yes);
}

export async function evaluateCouponFor(
  db: DbOrTx,
  p: { code: string; orgId: string; subtotal: number; currency: string; lock?: boolean; preview?: boolean },
): Promise<{ coupon: Coupon | undefined; evaluation: CouponEvaluation }> {
  const coupon = await findCoupon(db, p.code, { lock: p.lock });
  // The coupon's row lock serialises checkouts with this code; checkouts with two different
  // first-purchase-only codes meet on the organisation's lock (always taken after a coupon's, and
  // nothing waits for a coupon while holding it), so only one of them can see "no first purchase
  // under way" and hold.
  if (p.lock && coupon?.firstPurchaseOnly) await advisoryXactLock(db, LOCK_NAMESPACE.firstPurchaseCoupons, p.orgId);
  const facts = await couponFacts(db, coupon, p.orgId, { ownHoldsReclaimable: p.preview });
  const evaluation = evaluateCoupon(coupon ?? null, { ...facts, now: new Date(), subtotal: p.subtotal, currency: p.currency }, p.code);
  return { coupon, evaluation };
}

/**
 * The wrong-code throttle, atomic under parallel guesses: under an advisory lock on the
 * organisation (held for this short transaction only), refuse with rate_limited when the
 * organisation has entered too many unknown codes lately, and otherwise record the code as a
 * failure right away if no coupon has it. Deciding and recording in one locked step is what keeps
 * a burst of parallel guesses to exactly COUPON_FAILURE_LIMIT evaluated codes (a check here and a
 * record after the evaluation would let every guess of a burst be evaluated). Real codes refused
 * for a rule (expired, exhausted…) do not count. Call it before evaluating `rawCode`.
 */
export async function checkCouponGuess(db: DbOrTx, orgId: string, rawCode: string): Promise<void> {
  const code = normalizeCouponCode(rawCode);
  await db.transaction(async (tx) => {
    await advisoryXactLock(tx, LOCK_NAMESPACE.couponGuesses, orgId);
    const now = new Date();
    const rows = await tx
      .select({ at: couponAttempts.createdAt })
      .from(couponAttempts)
      .where(and(eq(couponAttempts.orgId, orgId), gte(couponAttempts.createdAt, new Date(now.getTime() - COUPON_FAILURE_WINDOW_MS))));
    const verdict = couponThrottle(
      rows.map((r) => r.at),
      now,
    );
    if (verdict.limited) throw new AppError("rate_limited", verdict.message, { retryAfterMs: verdict.retryAfterMs });
    const [known] = await tx.select({ id: coupons.id }).from(coupons).where(eq(coupons.code, code));
    if (!known) await tx.insert(couponAttempts).values({ orgId, code: code.slice(0, 64) });
  });
}

/** A checkout's hold counts against the cap for this long before it can be reclaimed. */
export const HOLD_TTL_MS = 30 * 60 * 1000;

export type ReclaimableHold = {
  purchaseId: string;
  paymentIntentId: string | null;
  purchaseStatus: string;
  couponId: string;
  orgId: string;
  createdAt: Date;
};

/**
 * Holds that may be reclaimed (lib/topups/reclaim.ts decides how): held for longer than the TTL,
 * or — any age — this organisation's own holds whose checkout has a linked PaymentIntent (it
 * walked away from that checkout; the intent is cancelled at Stripe before the hold goes).
 * A fresh hold without a linked intent is never listed: its checkout may be linking one now.
 */
export async function reclaimableHolds(
  db: DbOrTx,
  p: { couponId?: string; olderThanMs: number; orgId?: string; limit?: number },
): Promise<ReclaimableHold[]> {
  const cutoff = lt(couponRedemptions.createdAt, new Date(Date.now() - p.olderThanMs));
  const ownLinked = p.orgId ? and(eq(couponRedemptions.orgId, p.orgId), isNotNull(purchases.stripePaymentIntentId)) : undefined;
  return db
    .select({
      purchaseId: couponRedemptions.purchaseId,
      paymentIntentId: purchases.stripePaymentIntentId,
      purchaseStatus: purchases.status,
      couponId: couponRedemptions.couponId,
      orgId: couponRedemptions.orgId,
      createdAt: couponRedemptions.createdAt,
    })
    .from(couponRedemptions)
    .innerJoin(purchases, eq(purchases.id, couponRedemptions.purchaseId))
    .where(
      and(
        p.couponId ? eq(couponRedemptions.couponId, p.couponId) : undefined,
        eq(couponRedemptions.status, "held"),
        // A purchase in review (paid, amount mismatch) keeps its hold: it counts, nobody reclaims it.
        inArray(purchases.status, ["pending", "failed"]),
        ownLinked ? or(cutoff, ownLinked) : cutoff,
      ),
    )
    .orderBy(couponRedemptions.createdAt)
    .limit(p.limit ?? 1000);
}

export type { Db, Tx };
