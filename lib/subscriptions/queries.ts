// Read models for the Plan page and the past-due banner.
import { and, desc, eq, inArray, sql } from "drizzle-orm";
import type { DbOrTx } from "@/db/client";
import { creditEntries, stripeCustomers, subscriptions } from "@/db/schema";
import { PLANS, annualSaving } from "../plans/catalogue";

export type PlanCard = {
  key: string;
  name: string;
  description: string;
  creditsPerMonth: number;
  trialDays: number;
  trialCredits: number;
  currency: string;
  monthlyAmount: number;
  annualAmount: number;
  annualSaving: { amount: number; percent: number };
  annualGrantsMonthly: boolean;
  /** Metered overage per credit (monthly billing only), or null when the plan has none. */
  overageUnitAmount: number | null;
};

/** The plans as the Plan page offers them: without their trial once the organisation has had one (lib/subscriptions/trial.ts). */
export function planCardsFor(trialUsed: boolean): PlanCard[] {
  return PLANS.map((p) => ({
    key: p.key,
    name: p.name,
    description: p.description,
    creditsPerMonth: p.creditsPerMonth,
    trialDays: trialUsed ? 0 : p.trialDays,
    trialCredits: p.trialCredits,
    currency: p.currency,
    monthlyAmount: p.monthly.amount,
    annualAmount: p.annual.amount,
    annualSaving: annualSaving(p),
    annualGrantsMonthly: p.annualGrantsMonthly,
    overageUnitAmount: p.overage?.unitAmount ?? null,
  }));
}

export type CurrentPlanView = {
  id: string;
  status: string;
  planKey: string;
  interval: "month" | "year";
  currentPeriodStart: string | null;
  currentPeriodEnd: string | null;
  trialEnd: string | null;
  cancelAtPeriodEnd: boolean;
  scheduledPlanKey: string | null;
  scheduledInterval: string | null;
  scheduledAt: string | null;
  graceEndsAt: string | null;
  /** The grace period has ended (campaigns are paused for billing). */
  graceOver: boolean;
  endedAt: string | null;
};

const iso = (d: Date | null) => (d ? d.toISOString() : null);

/** The organisation's live subscription, else its most recent one (ended), else null. */
export async function currentPlan(db: DbOrTx, orgId: string): Promise<CurrentPlanView | null> {
  const [row] = await db
    .select()
    .from(subscriptions)
    .where(eq(subscriptions.orgId, orgId))
    .orderBy(sql`${subscriptions.status} IN ('canceled', 'incomplete_expired')`, desc(subscriptions.createdAt))
    .limit(1);
  if (!row) return null;
  return {
    id: row.id,
    status: row.status,
    planKey: row.planKey,
    interval: row.interval as "month" | "year",
    currentPeriodStart: iso(row.currentPeriodStart),
    currentPeriodEnd: iso(row.currentPeriodEnd),
    trialEnd: iso(row.trialEnd),
    cancelAtPeriodEnd: row.cancelAtPeriodEnd,
    scheduledPlanKey: row.scheduledPlanKey,
    scheduledInterval: row.scheduledInterval,
    scheduledAt: iso(row.scheduledAt),
    graceEndsAt: iso(row.graceEndsAt),
    graceOver: row.graceEndsAt !== null && row.graceEndsAt.getTime() <= Date.now(),
    endedAt: iso(row.endedAt),
  };
}

/** Credits the organisation's plans have granted (period, trial and upgrade grants). */
export async function planCreditsGranted(db: DbOrTx, orgId: string): Promise<number> {
  const [row] = await db
    .select({ total: sql<number>`coalesce(sum(${creditEntries.amount}), 0)::int` })
    .from(creditEntries)
    .where(and(eq(creditEntries.orgId, orgId), inArray(creditEntries.kind, ["subscription_grant", "trial_grant"])));
  return row?.total ?? 0;
}

export async function stripeCustomerOf(db: DbOrTx, orgId: string): Promise<string | null> {
  const [row] = await db.select({ id: stripeCustomers.stripeCustomerId }).from(stripeCustomers).where(eq(stripeCustomers.orgId, orgId));
  return row?.id ?? null;
}

/** For the past-due banner: when the grace period of a delinquent subscription ends. */
export async function pastDue(db: DbOrTx, orgId: string): Promise<{ graceEndsAt: Date; graceOver: boolean } | null> {
  const [row] = await db
    .select({ graceEndsAt: subscriptions.graceEndsAt })
    .from(subscriptions)
    .where(and(eq(subscriptions.orgId, orgId), inArray(subscriptions.status, ["past_due", "unpaid"])));
  return row?.graceEndsAt ? { graceEndsAt: row.graceEndsAt, graceOver: row.graceEndsAt.getTime() <= Date.now() } : null;
}
