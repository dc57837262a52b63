// Recording overage usage, inside a delivery's transaction (lib/deliveries/service.ts):
//   overageTerms(tx, orgId)  whether the organisation may go past its credits now, and on what
//                            terms: an ACTIVE subscription (not trialing, past due, unpaid or
//                            paused) to a plan with `overage`, which has the metered item at
//                            Stripe (only then is the usage invoiced), with a known period;
//   recordUsage(tx, …)       the usage_records row, keyed by the delivery (a retried request
//                            records once), and the push job enqueued in the same transaction
//                            when the organisation's unpushed usage reaches METER_PUSH_UNITS.
import { and, eq, isNull, notInArray, sql } from "drizzle-orm";
import type { Tx } from "@/db/client";
import { ENDED_SUBSCRIPTION_STATUSES, subscriptions, usageRecords } from "@/db/schema";
import { enqueue } from "../jobs/queue";
import { planByKey } from "../plans/catalogue";
import { meteringConfig, subscriptionAllowsOverage } from "./rules";

export type OverageTerms = {
  subscriptionId: string;
  stripeCustomerId: string;
  planKey: string;
  unitAmount: number;
  currency: string;
  periodStart: Date;
  periodEnd: Date;
};

export const PUSH_USAGE_SINGLETON = "billing.push-usage";

export async function overageTerms(tx: Tx, orgId: string): Promise<OverageTerms | null> {
  const [sub] = await tx
    .select()
    .from(subscriptions)
    .where(and(eq(subscriptions.orgId, orgId), notInArray(subscriptions.status, [...ENDED_SUBSCRIPTION_STATUSES])));
  if (!sub || !subscriptionAllowsOverage(sub.status) || !sub.stripeMeteredItemId) return null;
  const plan = planByKey(sub.planKey);
  if (!plan?.overage || !sub.currentPeriodStart || !sub.currentPeriodEnd) return null;
  return {
    subscriptionId: sub.id,
    stripeCustomerId: sub.stripeCustomerId,
    planKey: plan.key,
    unitAmount: plan.overage.unitAmount,
    currency: plan.currency,
    periodStart: sub.currentPeriodStart,
    periodEnd: sub.currentPeriodEnd,
  };
}

/** Records `credits` of overage for the delivery, once. Returns whether the push job was queued. */
export async function recordUsage(tx: Tx, p: { orgId: string; deliveryId: string; credits: number; terms: OverageTerms }): Promise<{ queuedPush: boolean }> {
  await tx
    .insert(usageRecords)
    .values({
      orgId: p.orgId,
      deliveryId: p.deliveryId,
      subscriptionId: p.terms.subscriptionId,
      stripeCustomerId: p.terms.stripeCustomerId,
      planKey: p.terms.planKey,
      credits: p.credits,
      unitAmount: p.terms.unitAmount,
      currency: p.terms.currency,
      periodStart: p.terms.periodStart,
      periodEnd: p.terms.periodEnd,
    })
    .onConflictDoNothing({ target: usageRecords.deliveryId });
  const [pending] = await tx
    .select({ credits: sql<number>`coalesce(sum(${usageRecords.credits}), 0)::int` })
    .from(usageRecords)
    .where(and(eq(usageRecords.orgId, p.orgId), isNull(usageRecords.batchId)));
  if ((pending?.credits ?? 0) < meteringConfig().pushUnits) return { queuedPush: false };
  // One pending push covers everyone's usage; while one waits, this inserts nothing.
  await enqueue(tx, "billing.push-usage", { reason: "units", orgId: p.orgId }, { singletonKey: PUSH_USAGE_SINGLETON });
  return { queuedPush: true };
}
