// Read models for platform staff: every organisation's balance against its ledger, payments that
// need a person (needs_review: Stripe's amount or currency differs from the purchase), coupon
// over-redemptions (a late payment redeemed a coupon past its limits), metered-usage batches that
// Stripe refused or that have waited too long to be pushed, and the webhook event log.
import { desc, eq, isNotNull, sql } from "drizzle-orm";
import type { DbOrTx } from "@/db/client";
import { couponRedemptions, coupons, meterBatches, organizations, purchases, stripeEvents } from "@/db/schema";

export async function organisationsWithLedger(db: DbOrTx) {
  return db.execute<{ id: string; slug: string; name: string; balance: number; ledger_sum: number; entries: number }>(sql`
    select o.id, o.slug, o.name, o.balance, coalesce(sum(e.amount), 0)::int as ledger_sum, count(e.id)::int as entries
    from organizations o left join credit_entries e on e.org_id = o.id
    group by o.id order by o.name`);
}

export async function recentWebhookEvents(db: DbOrTx, limit = 50) {
  return db
    .select({
      id: stripeEvents.id,
      type: stripeEvents.type,
      receivedAt: stripeEvents.receivedAt,
      processedAt: stripeEvents.processedAt,
      attempts: stripeEvents.attempts,
      lastError: stripeEvents.lastError,
    })
    .from(stripeEvents)
    .orderBy(desc(stripeEvents.receivedAt))
    .limit(limit);
}

export async function purchasesNeedingReview(db: DbOrTx, limit = 50) {
  return db
    .select({
      id: purchases.id,
      orgSlug: organizations.slug,
      orgName: organizations.name,
      amount: purchases.amount,
      currency: purchases.currency,
      paymentIntentId: purchases.stripePaymentIntentId,
      reason: purchases.reviewReason,
      at: purchases.finalizedAt,
    })
    .from(purchases)
    .innerJoin(organizations, eq(organizations.id, purchases.orgId))
    .where(eq(purchases.status, "needs_review"))
    .orderBy(desc(purchases.finalizedAt))
    .limit(limit);
}

export async function couponOverRedemptions(db: DbOrTx, limit = 50) {
  return db
    .select({
      id: couponRedemptions.id,
      code: coupons.code,
      orgSlug: organizations.slug,
      orgName: organizations.name,
      purchaseId: couponRedemptions.purchaseId,
      reason: couponRedemptions.overRedemption,
      at: couponRedemptions.updatedAt,
    })
    .from(couponRedemptions)
    .innerJoin(coupons, eq(coupons.id, couponRedemptions.couponId))
    .innerJoin(organizations, eq(organizations.id, couponRedemptions.orgId))
    .where(isNotNull(couponRedemptions.overRedemption))
    .orderBy(desc(couponRedemptions.updatedAt))
    .limit(limit);
}

/**
 * Metered-usage batches a person must look at (lib/usage/push.ts): refused by Stripe for good
 * (failed_at), or still unpushed after `stuckAfterMinutes` (the job is retrying and failing, or
 * not running). Usage in them is not on any invoice yet.
 */
export async function meterBatchesNeedingAttention(db: DbOrTx, stuckAfterMinutes: number, limit = 50) {
  return db
    .select({
      id: meterBatches.id,
      identifier: meterBatches.identifier,
      orgSlug: organizations.slug,
      orgName: organizations.name,
      credits: meterBatches.credits,
      createdAt: meterBatches.createdAt,
      attempts: meterBatches.attempts,
      lastError: meterBatches.lastError,
      failedAt: meterBatches.failedAt,
    })
    .from(meterBatches)
    .innerJoin(organizations, eq(organizations.id, meterBatches.orgId))
    .where(
      sql`${meterBatches.pushedAt} is null and (${meterBatches.failedAt} is not null or ${meterBatches.createdAt} < now() - make_interval(mins => ${stuckAfterMinutes}::int))`,
    )
    .orderBy(desc(meterBatches.createdAt))
    .limit(limit);
}
