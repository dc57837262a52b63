// Stripe calls for plans and subscriptions (products, prices, subscriptions, schedules,
// invoices, invoice previews, the billing portal). Every mutating call carries an idempotency key
// derived from our own row id, so a retried action never creates or changes twice.
import "server-only";
import Stripe from "stripe";
import { stripe, stripeMode } from "./client";

export type { Stripe };

export function isMissing(e: unknown): boolean {
  return e instanceof Stripe.errors.StripeInvalidRequestError && e.code === "resource_missing";
}

/** Expand paths the subscription mirror reads (the first invoice's client secret included). */
const SUB_EXPAND = ["latest_invoice.confirmation_secret", "schedule"];

/** The item that carries the plan (licensed); a metered overage item, if any, comes besides it. */
export function planItem(sub: Stripe.Subscription): Stripe.SubscriptionItem | undefined {
  return sub.items.data.find((i) => i.price.recurring?.usage_type !== "metered") ?? sub.items.data[0];
}

/** The metered overage item, if the subscription has one. */
export function meteredItem(sub: Stripe.Subscription): Stripe.SubscriptionItem | undefined {
  return sub.items.data.find((i) => i.price.recurring?.usage_type === "metered");
}

export async function retrieveSubscription(id: string): Promise<Stripe.Subscription> {
  return stripe().subscriptions.retrieve(id, { expand: SUB_EXPAND });
}

/** What starts a plan at Stripe, by subscription (embedded form) or Checkout Session (hosted). */
export type PlanStart = {
  rowId: string;
  orgId: string;
  customerId: string;
  priceId: string;
  /** The plan's metered overage price: a second item, no quantity, billed in arrears from the meter. */
  overagePriceId?: string | null;
  trialDays: number;
};

export async function createSubscription(p: PlanStart): Promise<Stripe.Subscription> {
  return stripe().subscriptions.create(
    {
      customer: p.customerId,
      items: [{ price: p.priceId }, ...(p.overagePriceId ? [{ price: p.overagePriceId }] : [])],
      payment_behavior: "default_incomplete",
      payment_settings: { save_default_payment_method: "on_subscription" },
      ...(p.trialDays > 0 ? { trial_period_days: p.trialDays } : {}),
      metadata: { org_id: p.orgId, subscription_row_id: p.rowId },
      expand: SUB_EXPAND,
    },
    { idempotencyKey: `subscription:${p.rowId}` },
  );
}

/** Ends an abandoned incomplete subscription (replaced by another plan choice). */
export async function cancelSubscriptionNow(id: string, key: string): Promise<Stripe.Subscription> {
  try {
    return await stripe().subscriptions.cancel(id, {}, { idempotencyKey: key });
  } catch (e) {
    if (e instanceof Stripe.errors.StripeInvalidRequestError) return retrieveSubscription(id);
    throw e;
  }
}

/**
 * An immediate plan change, invoiced now with proration. An upgrade within the same interval is
 * applied only once its invoice is paid (pending_if_incomplete). A change of interval (monthly →
 * annual) starts a new period now and is applied at once; if its charge fails, the subscription
 * goes past due and the usual dunning applies (the emulator, like this code, does not combine
 * pending updates with an interval change).
 */
export async function changePriceNow(sub: Stripe.Subscription, priceId: string, newInterval: string, key: string, overagePriceId: string | null = null): Promise<Stripe.Subscription> {
  const item = planItem(sub)!;
  const sameInterval = item.price.recurring?.interval === newInterval;
  return stripe().subscriptions.update(
    sub.id,
    {
      items: [{ id: item.id, price: priceId }, ...meteredItemChange(sub, newInterval, overagePriceId)],
      proration_behavior: "always_invoice",
      // During a trial nothing is invoiced, so nothing can be pending.
      ...(sub.status !== "trialing" && sameInterval ? { payment_behavior: "pending_if_incomplete" as const } : {}),
      expand: SUB_EXPAND,
    },
    { idempotencyKey: key },
  );
}

/**
 * How the metered overage item follows a plan change: the new plan's overage price replaces the
 * old one, is added, or the item goes (a plan without overage, or an annual interval: Stripe
 * wants one interval per subscription and the overage price is monthly).
 */
export function meteredItemChange(sub: Stripe.Subscription, newInterval: string, overagePriceId: string | null): Stripe.SubscriptionUpdateParams.Item[] {
  const metered = meteredItem(sub);
  const wanted = newInterval === "month" ? overagePriceId : null;
  if (metered && wanted) return metered.price.id === wanted ? [] : [{ id: metered.id, price: wanted }];
  if (metered) return [{ id: metered.id, deleted: true }];
  return wanted ? [{ price: wanted }] : [];
}

export async function previewPriceChange(sub: Stripe.Subscription, priceId: string): Promise<Stripe.Invoice> {
  const item = planItem(sub)!;
  return stripe().invoices.createPreview({
    customer: typeof sub.customer === "string" ? sub.customer : sub.customer.id,
    subscription: sub.id,
    subscription_details: { items: [{ id: item.id, price: priceId }], proration_behavior: "always_invoice" },
  });
}

/**
 * A change at the period end: a schedule whose second phase carries the new price (and the new
 * plan's monthly overage price, if any). The first phase lists every current item, the metered
 * one included, so that the current period keeps billing its usage.
 */
export async function scheduleChangeAtPeriodEnd(
  sub: Stripe.Subscription,
  priceId: string,
  key: string,
  next: { interval: string; overagePriceId: string | null } = { interval: "month", overagePriceId: null },
): Promise<Stripe.SubscriptionSchedule> {
  const item = planItem(sub)!;
  const metered = meteredItem(sub);
  const scheduleId = typeof sub.schedule === "string" ? sub.schedule : sub.schedule?.id;
  const schedule = scheduleId
    ? await stripe().subscriptionSchedules.retrieve(scheduleId)
    : await stripe().subscriptionSchedules.create({ from_subscription: sub.id }, { idempotencyKey: `${key}:schedule` });
  const current = schedule.phases[0]!;
  const nextOverage = next.interval === "month" ? next.overagePriceId : null;
  return stripe().subscriptionSchedules.update(
    schedule.id,
    {
      end_behavior: "release",
      phases: [
        { items: [{ price: item.price.id, quantity: 1 }, ...(metered ? [{ price: metered.price.id }] : [])], start_date: current.start_date, end_date: item.current_period_end },
        { items: [{ price: priceId, quantity: 1 }, ...(nextOverage ? [{ price: nextOverage }] : [])] },
      ],
    },
    { idempotencyKey: `${key}:phases` },
  );
}

export async function releaseSchedule(scheduleId: string, key: string): Promise<void> {
  try {
    await stripe().subscriptionSchedules.release(scheduleId, {}, { idempotencyKey: key });
  } catch (e) {
    // Already released or completed: nothing is scheduled any more, which is what we wanted.
    if (!(e instanceof Stripe.errors.StripeInvalidRequestError)) throw e;
  }
}

export async function retrieveSchedule(id: string): Promise<Stripe.SubscriptionSchedule> {
  return stripe().subscriptionSchedules.retrieve(id);
}

export async function setCancelAtPeriodEnd(id: string, cancel: boolean, key: string): Promise<Stripe.Subscription> {
  return stripe().subscriptions.update(id, { cancel_at_period_end: cancel, expand: SUB_EXPAND }, { idempotencyKey: key });
}

export async function listInvoices(customerId: string, limit = 24): Promise<Stripe.Invoice[]> {
  return (await stripe().invoices.list({ customer: customerId, limit })).data;
}

/** Every paid invoice of a customer, newest first (reconciliation; auto-paginated, bounded). */
export async function listPaidInvoices(customerId: string, max = 2_000): Promise<Stripe.Invoice[]> {
  const out: Stripe.Invoice[] = [];
  for await (const invoice of stripe().invoices.list({ customer: customerId, status: "paid", limit: 100 })) {
    out.push(invoice);
    if (out.length >= max) break;
  }
  return out;
}

export async function retrieveInvoice(id: string): Promise<Stripe.Invoice> {
  return stripe().invoices.retrieve(id);
}

/**
 * A billing portal session. `fix_card` opens Stripe's payment-method-update flow in real mode; the
 * emulator has no portal flows, and its portal page offers the card update on its front page.
 */
export async function createPortalSession(customerId: string, returnUrl: string, purpose: "manage" | "fix_card" = "manage"): Promise<string> {
  const flow = purpose === "fix_card" && stripeMode() === "real" ? { flow_data: { type: "payment_method_update" as const } } : {};
  const session = await stripe().billingPortal.sessions.create({ customer: customerId, return_url: returnUrl, ...flow });
  return session.url;
}

/** The subscription an invoice belongs to (current API: under parent.subscription_details). */
export function invoiceSubscriptionId(invoice: Stripe.Invoice): string | null {
  const sub = invoice.parent?.subscription_details?.subscription;
  if (!sub) return null;
  return typeof sub === "string" ? sub : sub.id;
}

/** The first invoice's PaymentIntent client secret, when it still needs paying. */
export function confirmationSecret(sub: Stripe.Subscription): string | null {
  const invoice = sub.latest_invoice;
  if (!invoice || typeof invoice === "string") return null;
  return invoice.confirmation_secret?.client_secret ?? null;
}

/** The PaymentIntent id behind a confirmation secret (`pi_…_secret_…`). */
export function paymentIntentIdFromSecret(secret: string): string | null {
  const id = secret.split("_secret_")[0];
  return id && id.startsWith("pi_") ? id : null;
}

export type InvoiceConfirmOutcome = { kind: "intent"; status: Stripe.PaymentIntent.Status } | { kind: "declined"; message: string };

/** Test-card form: pays the first invoice's PaymentIntent with one of Stripe's test payment methods. */
export async function confirmInvoiceWithTestCard(paymentIntentId: string, rowId: string, paymentMethod: string): Promise<InvoiceConfirmOutcome> {
  try {
    const pi = await stripe().paymentIntents.confirm(
      paymentIntentId,
      { payment_method: paymentMethod },
      { idempotencyKey: `subscription:${rowId}:confirm:${paymentIntentId}:${paymentMethod}` },
    );
    return { kind: "intent", status: pi.status };
  } catch (e) {
    if (e instanceof Stripe.errors.StripeCardError) return { kind: "declined", message: e.message };
    throw e;
  }
}
