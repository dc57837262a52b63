// Reads for the billing overview: the organisation's overage status and the usage of the current
// period not yet invoiced (it is billed on the invoice at the period's end).
import { and, eq, gte, notInArray, sql } from "drizzle-orm";
import type { DbOrTx } from "@/db/client";
import { ENDED_SUBSCRIPTION_STATUSES, meterBatches, subscriptions, usageRecords } from "@/db/schema";
import { planByKey } from "../plans/catalogue";
import { subscriptionAllowsOverage } from "./rules";

export type OverageSummary = {
  planName: string;
  /** on: deliveries past zero run as overage now; off: the plan has none; paused: it has, but not now. */
  state: "on" | "off" | "paused";
  /** Why overage is paused (subscription status, annual billing, no metered item). */
  reason: string | null;
  unitAmount: number | null;
  currency: string;
  periodEnd: Date | null;
  /** This period's usage (credits and amount at the recorded prices), invoiced at the period end. */
  credits: number;
  amount: number;
  /** Of which already reported to Stripe's meter. */
  reportedCredits: number;
};

export async function overageSummary(db: DbOrTx, orgId: string): Promise<OverageSummary | null> {
  const [sub] = await db
    .select()
    .from(subscriptions)
    .where(and(eq(subscriptions.orgId, orgId), notInArray(subscriptions.status, [...ENDED_SUBSCRIPTION_STATUSES, "creating", "incomplete"])));
  if (!sub) return null;
  const plan = planByKey(sub.planKey);
  if (!plan) return null;
  let state: OverageSummary["state"] = "on";
  let reason: string | null = null;
  if (!plan.overage) state = "off";
  else if (sub.interval !== "month") [state, reason] = ["paused", "overage comes with monthly billing only"];
  else if (!sub.stripeMeteredItemId) [state, reason] = ["paused", "your subscription has no overage item yet; change plan or contact support"];
  else if (!subscriptionAllowsOverage(sub.status)) [state, reason] = ["paused", sub.status === "trialing" ? "not during a trial" : `your plan is ${sub.status.replace(/_/g, " ")}`];
  const [usage] = sub.currentPeriodStart
    ? await db
        .select({
          credits: sql<number>`coalesce(sum(${usageRecords.credits}), 0)::int`,
          amount: sql<number>`coalesce(sum(${usageRecords.credits} * ${usageRecords.unitAmount}), 0)::int`,
          reported: sql<number>`coalesce(sum(${usageRecords.credits}) filter (where ${meterBatches.pushedAt} is not null), 0)::int`,
        })
        .from(usageRecords)
        .leftJoin(meterBatches, eq(meterBatches.id, usageRecords.batchId))
        .where(and(eq(usageRecords.orgId, orgId), gte(usageRecords.periodStart, sub.currentPeriodStart)))
    : [undefined];
  return {
    planName: plan.name,
    state,
    reason,
    unitAmount: plan.overage?.unitAmount ?? null,
    currency: plan.currency,
    periodEnd: sub.currentPeriodEnd,
    credits: usage?.credits ?? 0,
    amount: usage?.amount ?? 0,
    reportedCredits: usage?.reported ?? 0,
  };
}
