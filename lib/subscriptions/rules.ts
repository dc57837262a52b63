// Pure subscription rules (unit-tested in rules.test.ts): what a plan change is, what a paid
// invoice grants, the proration credit rule, the months of an annual grant, the grace period.
import { creditsForPeriod, planByKey, priceByLookupKey, type Plan, type PlanInterval } from "../plans/catalogue";

export type PlanChoice = { planKey: string; interval: PlanInterval };

export type ChangeKind = "none" | "now" | "at_period_end";

/**
 * When a change takes effect. Upgrades (a higher-ranked plan, same or longer interval) happen now
 * with proration; so does monthly → annual on any plan at least as big (Stripe starts the annual
 * period now, crediting the unused month). Downgrades — a lower plan, or annual → monthly — wait
 * for the period end, so nobody loses time they paid for.
 */
export function changeKind(current: PlanChoice, target: PlanChoice): ChangeKind {
  if (current.planKey === target.planKey && current.interval === target.interval) return "none";
  const from = planByKey(current.planKey);
  const to = planByKey(target.planKey);
  if (!from || !to) throw new RangeError("unknown plan");
  if (current.interval === "year" && target.interval === "month") return "at_period_end";
  if (to.rank < from.rank) return "at_period_end";
  return "now";
}

/**
 * The credit adjustment for an upgrade made part-way through a grant window (a monthly period, or
 * the current month of an annual plan granted monthly): the difference between the two plans'
 * grants for that window, scaled by the share of the window still to come, rounded down (we never
 * grant for time that is not left). Never negative: an upgrade adds, and the credits already
 * granted for the old plan stay.
 */
export function prorationCredits(p: { oldCredits: number; newCredits: number; windowStart: number; windowEnd: number; changeAt: number }): number {
  const length = p.windowEnd - p.windowStart;
  if (length <= 0 || p.newCredits <= p.oldCredits) return 0;
  const remaining = Math.min(Math.max(p.windowEnd - p.changeAt, 0), length);
  return Math.floor(((p.newCredits - p.oldCredits) * remaining) / length);
}

/** Adds whole calendar months in UTC, clamping the day (Jan 31 + 1 month = Feb 28/29). */
export function addMonthsUtc(unixSeconds: number, months: number): number {
  const d = new Date(unixSeconds * 1000);
  const day = d.getUTCDate();
  const target = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + months, 1, d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds()));
  const lastDay = new Date(Date.UTC(target.getUTCFullYear(), target.getUTCMonth() + 1, 0)).getUTCDate();
  target.setUTCDate(Math.min(day, lastDay));
  return Math.floor(target.getTime() / 1000);
}

/** The start of each grant month of an annual period: month 0 is the period start; all before its end. */
export function grantMonths(periodStart: number, periodEnd: number): number[] {
  const out: number[] = [];
  for (let k = 0; k < 12; k++) {
    const at = addMonthsUtc(periodStart, k);
    if (at >= periodEnd) break;
    out.push(at);
  }
  return out;
}

/** The grant window (start, end) containing `at` for a subscription period. */
export function grantWindow(interval: PlanInterval, plan: Plan, periodStart: number, periodEnd: number, at: number): { start: number; end: number } {
  if (interval === "month" || !plan.annualGrantsMonthly) return { start: periodStart, end: periodEnd };
  const months = grantMonths(periodStart, periodEnd);
  let start = months[0]!;
  for (const m of months) if (m <= at) start = m;
  const i = months.indexOf(start);
  return { start, end: months[i + 1] ?? periodEnd };
}

/** Credits one grant window brings for this plan and interval. */
export function creditsPerWindow(plan: Plan, interval: PlanInterval): number {
  return interval === "year" && plan.annualGrantsMonthly ? plan.creditsPerMonth : creditsForPeriod(plan, interval);
}

// ---- What a paid invoice grants --------------------------------------------------------------

export type InvoiceLineFacts = { lookupKey: string | null; proration: boolean; amount: number; periodStart: number; periodEnd: number };
export type InvoiceFacts = { id: string; billingReason: string | null; lines: InvoiceLineFacts[] };

export type InvoiceGrant =
  | { kind: "none"; reason: string }
  | { kind: "trial"; credits: number; planKey: string }
  | {
      kind: "period";
      planKey: string;
      interval: PlanInterval;
      credits: number;
      periodStart: number;
      periodEnd: number;
      /** Annual granted monthly: the starts of months 1…11 still to grant by job. */
      laterMonths: number[];
    }
  | { kind: "proration"; planKey: string; credits: number };

/**
 * What a paid subscription invoice brings. A line for a new period of a price (not a proration)
 * grants that period's credits (for an annual plan granted monthly: the first month now, the
 * others later); a $0 first invoice with a trial line grants the plan's trial credits; an invoice
 * made only of prorations (an upgrade now) grants the prorationCredits adjustment for the grant
 * window the change falls in (the current period, which ends where the proration lines end and
 * began one interval before; for an annual plan granted monthly, the current month of it), from
 * the old price's line and the new one's.
 */
export function invoiceGrant(invoice: InvoiceFacts): InvoiceGrant {
  const periodLine = invoice.lines.find((l) => !l.proration && l.lookupKey && priceByLookupKey(l.lookupKey));
  if (periodLine) {
    const { plan, price } = priceByLookupKey(periodLine.lookupKey!)!;
    if (periodLine.amount === 0) {
      if (invoice.billingReason === "subscription_create" && plan.trialCredits > 0) return { kind: "trial", credits: plan.trialCredits, planKey: plan.key };
      return { kind: "none", reason: "a $0 period line outside a trial start" };
    }
    const months = price.interval === "year" && plan.annualGrantsMonthly ? grantMonths(periodLine.periodStart, periodLine.periodEnd) : [];
    return {
      kind: "period",
      planKey: plan.key,
      interval: price.interval,
      credits: creditsPerWindow(plan, price.interval),
      periodStart: periodLine.periodStart,
      periodEnd: periodLine.periodEnd,
      laterMonths: months.slice(1),
    };
  }
  const added = invoice.lines.find((l) => l.proration && l.amount > 0 && l.lookupKey && priceByLookupKey(l.lookupKey));
  const removed = invoice.lines.find((l) => l.proration && l.amount < 0 && l.lookupKey && priceByLookupKey(l.lookupKey));
  if (added && removed) {
    const to = priceByLookupKey(added.lookupKey!)!;
    const from = priceByLookupKey(removed.lookupKey!)!;
    // The proration runs to the end of the current period; the period began one interval before.
    const periodEnd = added.periodEnd;
    const periodStart = addMonthsUtc(periodEnd, to.price.interval === "year" ? -12 : -1);
    const window = grantWindow(to.price.interval, to.plan, periodStart, periodEnd, added.periodStart);
    const credits = prorationCredits({
      oldCredits: creditsPerWindow(from.plan, from.price.interval),
      newCredits: creditsPerWindow(to.plan, to.price.interval),
      windowStart: window.start,
      windowEnd: window.end,
      changeAt: added.periodStart,
    });
    return credits > 0 ? { kind: "proration", planKey: to.plan.key, credits } : { kind: "none", reason: "no credits for this change" };
  }
  return { kind: "none", reason: "no plan line" };
}

// ---- Dunning ---------------------------------------------------------------------------------

export const DELINQUENT_STATUSES = ["past_due", "unpaid"] as const;
export const isDelinquent = (status: string) => (DELINQUENT_STATUSES as readonly string[]).includes(status);
export const isEnded = (status: string) => status === "canceled" || status === "incomplete_expired";

export function graceEnd(since: Date, graceDays: number): Date {
  return new Date(since.getTime() + Math.round(graceDays * 86_400_000));
}

/**
 * The subscription the plan page shows as settling ("Confirming…", polling until active): one
 * waiting for its first payment, when the payer has just come back from paying it — hosted
 * Checkout sends them back with ?checkout=complete, and Stripe Elements, after a payment method
 * that leaves the page (a bank's 3-D Secure page, a redirect method), with
 * ?payment_intent=…&redirect_status=succeeded (or processing). A failed redirect is not settling:
 * the page shows the plan still waiting, with its "Finish paying".
 */
export function settlingPlanId(current: { id: string; status: string } | null, query: { checkout?: string | string[]; redirect_status?: string | string[] }): string | null {
  const waiting = current && ["creating", "incomplete"].includes(current.status);
  const returned = query.checkout === "complete" || query.redirect_status === "succeeded" || query.redirect_status === "processing";
  return waiting && returned ? current.id : null;
}
