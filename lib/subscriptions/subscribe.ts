// Starting a subscription. A row is reserved first (status "creating", unique request id, and the
// partial unique index "one live subscription per organisation"), then the subscription is
// created at Stripe with idempotency key subscription:<row id> (payment_behavior
// default_incomplete, the plan's trial if any). So double clicks (same request id), two tabs and
// two admins (different request ids) end with exactly one row and one Stripe subscription: the
// loser of the insert finds the live row and either continues it (same plan, still unpaid) or is
// refused. An unpaid subscription for another plan is cancelled at Stripe and replaced. The first
// invoice is paid on the page (Elements with the invoice's confirmation_secret, or the test-card
// form → confirmFirstInvoiceWithTestCard); subscriptionStatus verifies with Stripe and settles.
import { and, eq, notInArray } from "drizzle-orm";
import type Stripe from "stripe";
import type { Db, Tx } from "@/db/client";
import { subscriptions, ENDED_SUBSCRIPTION_STATUSES, type Organization, type Subscription } from "@/db/schema";
import { AppError } from "../errors";
import { log } from "../log";
import { planByKey, priceOf, type PlanInterval } from "../plans/catalogue";
import { overagePriceIdFor, stripePriceIdFor } from "../plans/sync";
import { ensureStripeCustomer } from "../stripe/customers";
import {
  cancelSubscriptionNow,
  confirmationSecret,
  confirmInvoiceWithTestCard,
  createSubscription,
  paymentIntentIdFromSecret,
  retrieveSubscription,
} from "../stripe/billing";
import { completeTestAuthentication, isStripeConnectionError, retrievePaymentIntent } from "../stripe/payment-intents";
import { applyPaidInvoice } from "./grants";
import { writeMirror } from "./sync";
import { recordPlanAudit, type PlanAudit } from "./audit";
import { trialDaysFor } from "./trial";

export type StartedSubscription = {
  subscriptionId: string;
  status: string;
  /** The first invoice's client secret while it needs paying; null for a trial or once paid. */
  clientSecret: string | null;
  amountDue: number;
  currency: string;
};

const UNPAID_START = ["creating", "incomplete"];

export async function liveSubscription(db: Db | Tx, orgId: string): Promise<Subscription | undefined> {
  const [row] = await db
    .select()
    .from(subscriptions)
    .where(and(eq(subscriptions.orgId, orgId), notInArray(subscriptions.status, [...ENDED_SUBSCRIPTION_STATUSES])));
  return row;
}

export async function startSubscription(
  db: Db,
  input: { org: Pick<Organization, "id" | "name" | "slug">; userId: string; planKey: string; interval: PlanInterval; requestId: string },
): Promise<StartedSubscription> {
  const plan = planByKey(input.planKey);
  if (!plan) throw new AppError("not_found", "That plan is not available.");
  const priceId = await stripePriceIdFor(db, priceOf(plan, input.interval).lookupKey);
  if (!priceId) throw new AppError("not_found", "Plans are not available yet. Please try again later.");

  const row = await reservePlanRow(db, { ...input, planKey: plan.key }, (live) => continueOrReplace(db, live, input.planKey, input.interval));
  if (row.startedVia === "checkout" && !row.stripeSubscriptionId) throw new AppError("conflict", PAYING_ON_CHECKOUT);
  if (!UNPAID_START.includes(row.status)) {
    if (row.status === "trialing" || row.status === "active") return { subscriptionId: row.id, status: row.status, clientSecret: null, amountDue: 0, currency: plan.currency };
    throw new AppError("conflict", "This plan has already been started. Reload the page.");
  }

  const sub = await ensureCreated(db, row);
  const invoice = sub.latest_invoice && typeof sub.latest_invoice !== "string" ? sub.latest_invoice : null;
  return {
    subscriptionId: row.id,
    status: sub.status,
    clientSecret: sub.status === "incomplete" ? confirmationSecret(sub) : null,
    amountDue: invoice?.amount_due ?? 0,
    currency: invoice?.currency ?? plan.currency,
  };
}

export type PlanRowRequest = { org: Pick<Organization, "id" | "name" | "slug">; userId: string; planKey: string; interval: PlanInterval; requestId: string; startedVia?: "page" | "checkout" };

const PAYING_ON_CHECKOUT = "This plan is being paid on Stripe's checkout page (another tab). Finish it there, or reload the page.";

/**
 * The subscriptions row a plan start works on, for the embedded form and hosted Checkout alike:
 * the row this request reserved before (same request id); else, when the organisation has a live
 * row, whatever `continueOrReplace` makes of it (the row to continue, or undefined once it ended);
 * else a new reservation (status "creating"). The partial unique index allows one live row per
 * organisation, so when another tab or admin reserved the slot between our look and our insert,
 * their row goes through `continueOrReplace` too.
 */
export async function reservePlanRow(
  db: Db,
  input: PlanRowRequest,
  continueOrReplace: (live: Subscription) => Promise<Subscription | undefined>,
): Promise<Subscription> {
  let row = await findByRequest(db, input.requestId, input.org.id);
  if (!row) {
    const live = await liveSubscription(db, input.org.id);
    if (live) row = await continueOrReplace(live);
  }
  if (row) return row;
  const customerId = await withStripe(() => ensureStripeCustomer(db, input.org));
  const [inserted] = await db
    .insert(subscriptions)
    .values({ orgId: input.org.id, createdBy: input.userId, requestId: input.requestId, stripeCustomerId: customerId, planKey: input.planKey, interval: input.interval, startedVia: input.startedVia ?? "page" })
    .onConflictDoNothing()
    .returning();
  row = inserted ?? (await findByRequest(db, input.requestId, input.org.id));
  if (row) return row;
  const live = await liveSubscription(db, input.org.id);
  row = live ? await continueOrReplace(live) : undefined;
  if (!row) throw new AppError("conflict", "Someone else is changing this organisation's plan. Reload the page.");
  return row;
}

export async function findByRequest(db: Db, requestId: string, orgId: string): Promise<Subscription | undefined> {
  const [row] = await db.select().from(subscriptions).where(eq(subscriptions.requestId, requestId));
  if (row && row.orgId !== orgId) throw new AppError("conflict", "This request belongs to another organisation. Reload the page.");
  return row;
}

/**
 * The organisation already has a live subscription: an unpaid start of the same plan is continued;
 * an unpaid start of another plan is cancelled at Stripe (and its slot freed); a subscription that
 * is running is a conflict (change it instead).
 */
async function continueOrReplace(db: Db, live: Subscription, planKey: string, interval: PlanInterval): Promise<Subscription | undefined> {
  if (!UNPAID_START.includes(live.status)) throw new AppError("conflict", "Your organisation already has a plan. Change it below instead.");
  // A hosted Checkout's row: its session is open and payable, so no subscription of ours for it.
  if (live.startedVia === "checkout") throw new AppError("conflict", PAYING_ON_CHECKOUT);
  if (live.planKey === planKey && live.interval === interval) return live;
  const sub = await ensureCreated(db, live);
  if (sub.status === "incomplete") {
    await withStripe(() => cancelSubscriptionNow(sub.id, `subscription:${live.id}:abandon`));
  }
  const synced = await syncRow(db, live.id);
  if (!UNPAID_START.includes(synced.status) && !ENDED_SUBSCRIPTION_STATUSES.includes(synced.status as never)) {
    // It got paid meanwhile: it is the organisation's plan now.
    throw new AppError("conflict", "Your organisation already has a plan. Change it below instead.");
  }
  log.info({ subscriptionId: live.id, orgId: live.orgId }, "unpaid subscription replaced by another plan choice");
  return undefined;
}

/** Creates the row's subscription at Stripe (idempotent by the row id) and mirrors it. */
async function ensureCreated(db: Db, row: Subscription): Promise<Stripe.Subscription> {
  const plan = planByKey(row.planKey)!;
  const priceId = await stripePriceIdFor(db, priceOf(plan, row.interval as PlanInterval).lookupKey);
  const sub = row.stripeSubscriptionId
    ? await withStripe(() => retrieveSubscription(row.stripeSubscriptionId!))
    : await withStripe(async () =>
        createSubscription({ rowId: row.id, orgId: row.orgId, customerId: row.stripeCustomerId, priceId: priceId!, overagePriceId: row.interval === "month" ? await overagePriceIdFor(db, plan.key) : null, trialDays: await trialDaysFor(db, plan, row) }),
      );
  // Audited once per row (its request id), by whoever links it first.
  await syncRow(db, row.id, sub.id, { actorUserId: row.createdBy, action: "plan.subscribe", requestId: row.requestId, details: { planKey: row.planKey, interval: row.interval } });
  return sub;
}

/**
 * Locks the row, reads the subscription from Stripe now, writes the mirror; a paid first invoice
 * settles. With `audit`, the change that was just made at Stripe is audited in this transaction.
 */
export async function syncRow(db: Db, rowId: string, stripeSubscriptionId?: string, audit?: PlanAudit): Promise<Subscription> {
  return db.transaction(async (tx) => {
    const [row] = await tx.select().from(subscriptions).where(eq(subscriptions.id, rowId)).for("update");
    if (!row) throw new AppError("not_found", "Subscription not found.");
    const id = stripeSubscriptionId ?? row.stripeSubscriptionId;
    if (!id) return row;
    const sub = await retrieveSubscription(id);
    const { row: synced } = await writeMirror(tx, row, sub);
    const invoice = sub.latest_invoice;
    if (invoice && typeof invoice !== "string" && invoice.status === "paid") await applyPaidInvoice(tx, invoice);
    const [latest] = await tx.select().from(subscriptions).where(eq(subscriptions.id, rowId));
    if (audit) await recordPlanAudit(tx, latest ?? synced, audit);
    return latest ?? synced;
  });
}

export async function withStripe<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (isStripeConnectionError(e)) throw new AppError("payment_provider_unavailable", "We couldn't reach the payment provider. Please try again in a moment.");
    throw e;
  }
}

// ---- The first invoice, paid on the page -------------------------------------------------------

export type FirstPaymentResult = { outcome: "processing" } | { outcome: "requires_action" } | { outcome: "declined"; message: string };

async function unpaidRow(db: Db, orgId: string, subscriptionId: string): Promise<{ row: Subscription; paymentIntentId: string }> {
  const [row] = await db.select().from(subscriptions).where(and(eq(subscriptions.id, subscriptionId), eq(subscriptions.orgId, orgId)));
  if (!row) throw new AppError("not_found", "Subscription not found.");
  if (row.status !== "incomplete" || !row.stripeSubscriptionId) throw new AppError("conflict", "This plan needs no payment now. Reload the page.");
  const sub = await withStripe(() => retrieveSubscription(row.stripeSubscriptionId!));
  const secret = sub.status === "incomplete" ? confirmationSecret(sub) : null;
  const paymentIntentId = secret ? paymentIntentIdFromSecret(secret) : null;
  if (!paymentIntentId) throw new AppError("conflict", "This plan needs no payment now. Reload the page.");
  return { row, paymentIntentId };
}

export async function confirmFirstInvoiceWithTestCard(db: Db, p: { orgId: string; subscriptionId: string; paymentMethod: string }): Promise<FirstPaymentResult> {
  const { row, paymentIntentId } = await unpaidRow(db, p.orgId, p.subscriptionId);
  const outcome = await withStripe(() => confirmInvoiceWithTestCard(paymentIntentId, row.id, p.paymentMethod));
  await syncRow(db, row.id);
  if (outcome.kind === "declined") return { outcome: "declined", message: outcome.message };
  if (outcome.status === "requires_action") return { outcome: "requires_action" };
  return { outcome: "processing" };
}

/** Local mode's stand-in for the 3-D Secure challenge on the first invoice. */
export async function authenticateFirstInvoice(db: Db, p: { orgId: string; subscriptionId: string; outcome: "succeed" | "fail" }): Promise<FirstPaymentResult> {
  const { row, paymentIntentId } = await unpaidRow(db, p.orgId, p.subscriptionId);
  await withStripe(() => completeTestAuthentication(paymentIntentId, p.outcome));
  const pi = await withStripe(() => retrievePaymentIntent(paymentIntentId));
  await syncRow(db, row.id);
  if (pi.status === "requires_payment_method") return { outcome: "declined", message: pi.last_payment_error?.message ?? "Authentication failed." };
  return { outcome: "processing" };
}

export type SubscriptionStatusView = { id: string; status: string; planKey: string; interval: string; verified: boolean };

/** The settling page: verifies with Stripe (and settles a paid first invoice), then reports. */
export async function subscriptionStatus(db: Db, p: { orgId: string; subscriptionId: string }): Promise<SubscriptionStatusView> {
  const [row] = await db.select().from(subscriptions).where(and(eq(subscriptions.id, p.subscriptionId), eq(subscriptions.orgId, p.orgId)));
  if (!row) throw new AppError("not_found", "Subscription not found.");
  let current = row;
  let verified = true;
  try {
    current = await syncRow(db, row.id);
  } catch (e) {
    if (!isStripeConnectionError(e)) throw e;
    verified = false;
  }
  return { id: current.id, status: current.status, planKey: current.planKey, interval: current.interval, verified };
}

