// Changing a running subscription: upgrade now (Stripe proration, invoiced and charged at once,
// applied only once paid — pending_if_incomplete — and credited by invoice.paid through the
// proration rule; an interval change is applied at once, see lib/stripe/billing.ts), downgrade or annual → monthly at the period end (a subscription schedule,
// shown as scheduled, undoable), monthly → annual now (a new annual period starts, crediting the
// unused month), a change during a trial keeps the trial end (Stripe invoices nothing). Cancel at
// period end and its undo. A preview (Stripe's invoice preview) says what is charged now and how
// many credits arrive now. Every Stripe call carries an idempotency key from the row and the
// caller's request id; the mirror is re-synced afterwards under the row lock, and the change is
// audited (who, what, from → to) in that same transaction (lib/subscriptions/audit.ts).
import type Stripe from "stripe";
import type { Db } from "@/db/client";
import type { Subscription } from "@/db/schema";
import { AppError } from "../errors";
import { planByKey, priceOf, type PlanInterval } from "../plans/catalogue";
import { overagePriceIdFor, stripePriceIdFor } from "../plans/sync";
import { stripeCustomers } from "@/db/schema";
import { eq } from "drizzle-orm";
import {
  changePriceNow,
  createPortalSession,
  previewPriceChange,
  releaseSchedule,
  retrieveSubscription,
  scheduleChangeAtPeriodEnd,
  setCancelAtPeriodEnd,
} from "../stripe/billing";
import { isStripeConnectionError } from "../stripe/payment-intents";
import { invoiceFacts } from "./grants";
import { changeKind, invoiceGrant, type ChangeKind } from "./rules";
import { liveSubscription, syncRow } from "./subscribe";

const CHANGEABLE = ["active", "trialing"];

async function withStripe<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (isStripeConnectionError(e)) throw new AppError("payment_provider_unavailable", "We couldn't reach the payment provider. Please try again in a moment.");
    throw e;
  }
}

async function changeableSubscription(db: Db, orgId: string): Promise<{ row: Subscription; sub: Stripe.Subscription }> {
  const row = await liveSubscription(db, orgId);
  if (!row?.stripeSubscriptionId) throw new AppError("not_found", "Your organisation has no plan to change.");
  if (!CHANGEABLE.includes(row.status)) {
    throw new AppError("conflict", row.status === "incomplete" ? "Finish paying for your plan first." : "Your plan can't be changed until its payment is sorted out.");
  }
  const sub = await withStripe(() => retrieveSubscription(row.stripeSubscriptionId!));
  return { row, sub };
}

async function targetPrice(db: Db, planKey: string, interval: PlanInterval) {
  const plan = planByKey(planKey);
  if (!plan) throw new AppError("not_found", "That plan is not available.");
  const priceId = await stripePriceIdFor(db, priceOf(plan, interval).lookupKey);
  if (!priceId) throw new AppError("not_found", "That plan is not available.");
  return { plan, priceId, overagePriceId: await overagePriceIdFor(db, plan.key) };
}

export type ChangePreview = {
  kind: Exclude<ChangeKind, "none">;
  /** Charged now (minor units); 0 for a change at the period end or during a trial. */
  amountDueNow: number;
  currency: string;
  /** Credits granted once that charge is paid. */
  creditsNow: number;
  /** When a change at the period end takes effect (ISO), else null. */
  effectiveAt: string | null;
  keepsTrialUntil: string | null;
};

export async function previewChange(db: Db, p: { orgId: string; planKey: string; interval: PlanInterval }): Promise<ChangePreview> {
  const { row, sub } = await changeableSubscription(db, p.orgId);
  const kind = changeKind({ planKey: row.planKey, interval: row.interval as PlanInterval }, p);
  if (kind === "none") throw new AppError("conflict", "That is your current plan.");
  const { plan, priceId } = await targetPrice(db, p.planKey, p.interval);
  const trialUntil = sub.status === "trialing" && sub.trial_end ? new Date(sub.trial_end * 1000).toISOString() : null;
  if (kind === "at_period_end" || trialUntil) {
    return {
      kind,
      amountDueNow: 0,
      currency: plan.currency,
      creditsNow: 0,
      effectiveAt: kind === "at_period_end" ? row.currentPeriodEnd?.toISOString() ?? null : null,
      keepsTrialUntil: trialUntil,
    };
  }
  const invoice = await withStripe(() => previewPriceChange(sub, priceId));
  const grant = invoiceGrant(await invoiceFacts(db, { ...invoice, id: invoice.id ?? "preview" } as Stripe.Invoice));
  return {
    kind,
    amountDueNow: invoice.amount_due,
    currency: invoice.currency,
    creditsNow: grant.kind === "period" || grant.kind === "proration" ? grant.credits : 0,
    effectiveAt: null,
    keepsTrialUntil: null,
  };
}

export type ChangeResult = { kind: Exclude<ChangeKind, "none">; applied: boolean; status: string; message: string };

export async function changePlan(db: Db, p: { orgId: string; actorUserId: string; planKey: string; interval: PlanInterval; requestId: string }): Promise<ChangeResult> {
  const { row, sub } = await changeableSubscription(db, p.orgId);
  if (row.cancelAtPeriodEnd) throw new AppError("conflict", "Your plan is set to end. Keep it first, then change it.");
  const kind = changeKind({ planKey: row.planKey, interval: row.interval as PlanInterval }, p);
  if (kind === "none") throw new AppError("conflict", "That is your current plan.");
  const { plan, priceId, overagePriceId } = await targetPrice(db, p.planKey, p.interval);
  const key = `subscription:${row.id}:change:${p.requestId}`;
  const from = { planKey: row.planKey, interval: row.interval };
  const to = { planKey: p.planKey, interval: p.interval };
  if (kind === "at_period_end") {
    await withStripe(() => scheduleChangeAtPeriodEnd(sub, priceId, key, { interval: p.interval, overagePriceId }));
    const synced = await syncRow(db, row.id, undefined, { actorUserId: p.actorUserId, action: "plan.change", requestId: p.requestId, details: { kind, from, to, applied: false, effectiveAt: row.currentPeriodEnd?.toISOString() ?? null } });
    return { kind, applied: false, status: synced.status, message: `${plan.name} starts at the end of the current period.` };
  }
  const scheduleId = typeof sub.schedule === "string" ? sub.schedule : sub.schedule?.id;
  if (scheduleId) await withStripe(() => releaseSchedule(scheduleId, `${key}:release`));
  const updated = await withStripe(() => changePriceNow(sub, priceId, p.interval, key, overagePriceId));
  // applied: false when the upgrade's payment failed (pending_if_incomplete: the plan is unchanged).
  const synced = await syncRow(db, row.id, undefined, { actorUserId: p.actorUserId, action: "plan.change", requestId: p.requestId, details: { kind, from, to, applied: !updated.pending_update } });
  if (updated.pending_update) {
    return { kind, applied: false, status: synced.status, message: "The payment for the change didn't go through, so your plan is unchanged. Update your card and try again." };
  }
  return { kind, applied: true, status: synced.status, message: `You're on ${plan.name} now.` };
}

export async function cancelScheduledChange(db: Db, p: { orgId: string; actorUserId: string; requestId: string }): Promise<{ status: string }> {
  const row = await liveSubscription(db, p.orgId);
  if (!row?.stripeSubscriptionId) throw new AppError("not_found", "Your organisation has no plan to change.");
  const sub = await withStripe(() => retrieveSubscription(row.stripeSubscriptionId!));
  const scheduleId = typeof sub.schedule === "string" ? sub.schedule : sub.schedule?.id;
  if (!scheduleId) throw new AppError("conflict", "No change is scheduled.");
  await withStripe(() => releaseSchedule(scheduleId, `subscription:${row.id}:unschedule:${p.requestId}`));
  const dropped = { planKey: row.scheduledPlanKey, interval: row.scheduledInterval, at: row.scheduledAt?.toISOString() ?? null };
  return { status: (await syncRow(db, row.id, undefined, { actorUserId: p.actorUserId, action: "plan.cancel_scheduled_change", requestId: p.requestId, details: { scheduleId, dropped } })).status };
}

/** Cancel at the period end (true) or undo that (false). A scheduled change is dropped on cancel. */
export async function setCancellation(db: Db, p: { orgId: string; actorUserId: string; cancelAtPeriodEnd: boolean; requestId: string }): Promise<{ status: string; cancelAtPeriodEnd: boolean }> {
  const row = await liveSubscription(db, p.orgId);
  if (!row?.stripeSubscriptionId) throw new AppError("not_found", "Your organisation has no plan to change.");
  if (!["active", "trialing", "past_due"].includes(row.status)) throw new AppError("conflict", "This plan can't be changed now.");
  const key = `subscription:${row.id}:cancel:${p.cancelAtPeriodEnd}:${p.requestId}`;
  const sub = await withStripe(() => retrieveSubscription(row.stripeSubscriptionId!));
  const scheduleId = typeof sub.schedule === "string" ? sub.schedule : sub.schedule?.id;
  if (p.cancelAtPeriodEnd && scheduleId) await withStripe(() => releaseSchedule(scheduleId, `${key}:release`));
  await withStripe(() => setCancelAtPeriodEnd(sub.id, p.cancelAtPeriodEnd, key));
  const synced = await syncRow(db, row.id, undefined, {
    actorUserId: p.actorUserId,
    action: p.cancelAtPeriodEnd ? "plan.cancel_at_period_end" : "plan.keep",
    requestId: p.requestId,
    details: { planKey: row.planKey, interval: row.interval, periodEnd: row.currentPeriodEnd?.toISOString() ?? null, ...(p.cancelAtPeriodEnd && scheduleId ? { droppedScheduleId: scheduleId } : {}) },
  });
  return { status: synced.status, cancelAtPeriodEnd: synced.cancelAtPeriodEnd };
}

/** A Stripe billing portal session for the organisation's customer (update card, invoices, cancel). */
export async function portalUrl(db: Db, p: { orgId: string; returnUrl: string; purpose: "manage" | "fix_card" }): Promise<{ url: string }> {
  const [customer] = await db.select().from(stripeCustomers).where(eq(stripeCustomers.orgId, p.orgId));
  if (!customer) throw new AppError("not_found", "Your organisation has no billing account yet. Start a plan or top up first.");
  return { url: await withStripe(() => createPortalSession(customer.stripeCustomerId, p.returnUrl, p.purpose)) };
}
