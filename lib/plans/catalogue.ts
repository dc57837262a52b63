// The subscription catalogue: every plan, its credits and its prices, defined here and nowhere
// else. `npm run stripe:sync` (scripts/stripe-sync.ts → lib/plans/sync.ts) pushes it to Stripe as
// products and prices with lookup keys, and mirrors the Stripe ids in plans / plan_prices.
//
// Rules the rest of the code relies on:
// - A plan's key and a price's lookup key never change meaning. Changing an amount means a new
//   lookup key version (`…_v2`): Stripe prices are immutable, and existing subscribers keep the
//   price they pay until they change plan.
// - Amounts are integer minor units; credits are integers.
// - Annual prices bill the year up front. With `annualGrantsMonthly` the year's credits arrive
//   as `creditsPerMonth` once per month of the paid year (a scheduled, idempotent grant keyed by
//   invoice and month), not all at once.
// - With `creditsExpire`, a plan's credits (period, monthly and trial grants, upgrade credits)
//   expire at the end of the window they were granted for (the period; for an annual plan
//   granted monthly, the month; a trial's at the trial end): unused ones are taken back by the
//   `credits.expire` job, and spending drains them before anything else. Starter and Growth
//   expire; Scale rolls over. Purchased credits never expire.
// - Plans are ordered by `rank` (higher = bigger): a change to a higher rank is an upgrade
//   (now, prorated), to a lower rank a downgrade (at the period end).
// - With `overage`, deliveries past the credits keep running while the subscription is active:
//   the shortfall is recorded as usage (lib/usage/) and billed on the next invoice at
//   `unitAmount` per credit through a metered price on the Billing Meter OVERAGE_METER_EVENT
//   (a second subscription item). Growth and Scale allow overage; Starter (the trial plan) does
//   not. A changed unit amount needs a new lookup key, as for every price.
export type PlanInterval = "month" | "year";

/** The Billing Meter's event name: overage credits, summed per customer over the period. */
export const OVERAGE_METER_EVENT = "creditloop_overage_credits";

/** A plan's metered overage: price per credit (minor units) and its lookup key. */
export type PlanOverage = { lookupKey: string; unitAmount: number };

export type PlanPrice = { lookupKey: string; interval: PlanInterval; amount: number };

export type Plan = {
  key: string;
  name: string;
  description: string;
  rank: number;
  /** Credits granted per month of service (a monthly period, or each month of a paid year). */
  creditsPerMonth: number;
  /** Trial length in days, and credits granted once when the trial starts; 0 = no trial. */
  trialDays: number;
  trialCredits: number;
  currency: string;
  monthly: PlanPrice;
  annual: PlanPrice;
  /** Annual subscribers receive creditsPerMonth each month (true) or 12× at once (false). */
  annualGrantsMonthly: boolean;
  /** Unused credits of this plan expire at the end of their grant window (see above). */
  creditsExpire: boolean;
  /** Deliveries past the credits are billed as metered usage (see above); null = refused. */
  overage: PlanOverage | null;
};

export const PLANS: readonly Plan[] = [
  {
    key: "starter",
    name: "Starter",
    description: "For a first campaign or two.",
    rank: 1,
    creditsPerMonth: 1_000,
    trialDays: 14,
    trialCredits: 200,
    currency: "usd",
    monthly: { lookupKey: "creditloop_starter_monthly_v1", interval: "month", amount: 2_900 },
    annual: { lookupKey: "creditloop_starter_annual_v1", interval: "year", amount: 29_000 },
    annualGrantsMonthly: true,
    creditsExpire: true,
    overage: null,
  },
  {
    key: "growth",
    name: "Growth",
    description: "Steady campaigns across several creators.",
    rank: 2,
    creditsPerMonth: 4_000,
    trialDays: 0,
    trialCredits: 0,
    currency: "usd",
    monthly: { lookupKey: "creditloop_growth_monthly_v1", interval: "month", amount: 9_900 },
    annual: { lookupKey: "creditloop_growth_annual_v1", interval: "year", amount: 99_000 },
    annualGrantsMonthly: true,
    creditsExpire: true,
    // 3¢ a credit past the plan's credits (the plan itself: 99 $ / 4,000 ≈ 2.5¢).
    overage: { lookupKey: "creditloop_growth_overage_v1", unitAmount: 3 },
  },
  {
    key: "scale",
    name: "Scale",
    description: "High-volume brands running many campaigns at once.",
    rank: 3,
    creditsPerMonth: 15_000,
    trialDays: 0,
    trialCredits: 0,
    currency: "usd",
    monthly: { lookupKey: "creditloop_scale_monthly_v1", interval: "month", amount: 29_900 },
    annual: { lookupKey: "creditloop_scale_annual_v1", interval: "year", amount: 299_000 },
    annualGrantsMonthly: true,
    creditsExpire: false,
    // 2¢ a credit (the plan itself: 299 $ / 15,000 ≈ 2¢).
    overage: { lookupKey: "creditloop_scale_overage_v1", unitAmount: 2 },
  },
];

export function planByKey(key: string): Plan | undefined {
  return PLANS.find((p) => p.key === key);
}

export function priceOf(plan: Plan, interval: PlanInterval): PlanPrice {
  return interval === "month" ? plan.monthly : plan.annual;
}

/** The plan and interval a lookup key belongs to. */
export function priceByLookupKey(lookupKey: string): { plan: Plan; price: PlanPrice } | undefined {
  for (const plan of PLANS) {
    for (const price of [plan.monthly, plan.annual]) if (price.lookupKey === lookupKey) return { plan, price };
  }
  return undefined;
}

/** What paying yearly saves against twelve monthly payments (minor units, and whole percent). */
export function annualSaving(plan: Plan): { amount: number; percent: number } {
  const twelve = plan.monthly.amount * 12;
  const amount = Math.max(0, twelve - plan.annual.amount);
  return { amount, percent: twelve === 0 ? 0 : Math.floor((amount * 100) / twelve) };
}

/** Credits a paid period brings: a month's, or a year's (12 months) when not granted monthly. */
export function creditsForPeriod(plan: Plan, interval: PlanInterval): number {
  return interval === "month" ? plan.creditsPerMonth : plan.creditsPerMonth * 12;
}
