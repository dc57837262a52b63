// Invoices of subscriptions: building them (lines for a period, prorations, pending items),
// finalizing (number, customer balance, a PaymentIntent whose client secret is the invoice's
// confirmation_secret), collecting (the subscription's, else the customer's default payment
// method, through the emulator's own PaymentIntent endpoints), and what paid / failed does to the
// subscription (incomplete → active, active → past_due, retries on the schedule, exhausted →
// canceled / unpaid / left past_due). Invariants: an invoice is paid at most once; amount_paid +
// amount_remaining = amount_due; every transition emits Stripe's event for it, stamped with the
// scope's time (test clock or emulator clock).
import type Stripe from "stripe";
import { MINIMUM_CHARGE } from "../currencies";
import { ApiError } from "../errors";
import { newId, randomToken } from "../ids";
import { TEST_CARDS } from "../resources/payment-methods";
import type { Wire } from "../resources/wire";
import type { Json, Store } from "../store";
import { callPaymentIntents, changedFields, customerJson, emit, emitUpdated, paymentIntentJson, publicUrl, type BillingEnv } from "./env";
import { SECONDS_PER_DAY } from "./periods";
import { noteMeteredChange } from "./metering";

export type LineInput = {
  amount: number;
  description: string;
  price: Json;
  quantity: number;
  period: { start: number; end: number };
  proration: boolean;
  subscriptionItem: string;
  invoiceItem?: string | null;
};

export function subscriptionMeta(store: Store, subId: string) {
  const all = store.state.billing.subscriptions;
  return (all[subId] ??= { pendingItems: [], upcomingSentFor: null, trialWillEndSentFor: null });
}

function invoiceMeta(store: Store, invId: string) {
  const all = store.state.billing.invoices;
  return (all[invId] ??= { seenCharge: null });
}

export function paymentMethodExists(store: Store, id: string): boolean {
  const stored = (store.state as unknown as { paymentMethods?: Record<string, unknown> }).paymentMethods;
  return Boolean(TEST_CARDS[id] || stored?.[id]);
}

export function productName(store: Store, price: Json): string {
  const product = store.state.products[price.product as string];
  return (product?.name as string | undefined) ?? String(price.product);
}

function fmtDate(t: number): string {
  return new Date(t * 1000).toLocaleDateString("en-US", { month: "short", day: "numeric", year: "numeric", timeZone: "UTC" });
}

/** A proration line: credit for unused time on the old price, or charge for the remaining time on the new one. */
export function prorationLine(store: Store, kind: "unused" | "remaining", price: Json, quantity: number, amount: number, from: number, periodEnd: number, subscriptionItem: string): LineInput {
  const qty = quantity === 1 ? "" : `${quantity} × `;
  return {
    amount,
    description: kind === "unused" ? `Unused time on ${qty}${productName(store, price)} after ${fmtDate(from)}` : `Remaining time on ${qty}${productName(store, price)} after ${fmtDate(from)}`,
    price,
    quantity,
    period: { start: from, end: periodEnd },
    proration: true,
    subscriptionItem,
    invoiceItem: newId("ii"),
  };
}

export function periodLine(store: Store, price: Json, quantity: number, start: number, end: number, subscriptionItem: string): LineInput {
  // A metered price is billed in arrears from its meter (billing/metering.ts): nothing in advance.
  if ((price.recurring as Json | null)?.usage_type === "metered") {
    return { amount: 0, description: `0 × ${productName(store, price)} usage`, price, quantity: 0, period: { start, end }, proration: false, subscriptionItem };
  }
  return {
    amount: Number(price.unit_amount) * quantity,
    description: `${quantity} × ${productName(store, price)} (at $${(Number(price.unit_amount) / 100).toFixed(2)} / ${(price.recurring as Json).interval})`,
    price,
    quantity,
    period: { start, end },
    proration: false,
    subscriptionItem,
  };
}

function lineJson(sub: Json | null, invoiceId: string | null, l: LineInput): Json {
  const line = {
    id: newId("il"),
    object: "line_item",
    amount: l.amount,
    currency: l.price.currency as string,
    description: l.description,
    discount_amounts: [],
    discountable: true,
    discounts: [],
    invoice: invoiceId,
    livemode: false,
    metadata: {},
    parent: {
      type: "subscription_item_details",
      invoice_item_details: null,
      subscription_item_details: {
        invoice_item: l.invoiceItem ?? null,
        proration: l.proration,
        proration_details: { credited_items: null },
        subscription: (sub?.id as string | undefined) ?? null,
        subscription_item: l.subscriptionItem,
      },
    },
    period: l.period,
    pretax_credit_amounts: [],
    pricing: { type: "price_details", price_details: { price: l.price.id as string, product: l.price.product as string }, unit_amount_decimal: String(l.price.unit_amount) },
    quantity: l.quantity,
    quantity_decimal: String(l.quantity),
    subscription: (sub?.id as string | undefined) ?? null,
    subtotal: l.amount,
    taxes: [],
  } satisfies Wire<Stripe.InvoiceLineItem>;
  return line;
}

export type InvoiceInput = {
  customer: Json;
  subscription: Json | null;
  lines: LineInput[];
  billingReason: "subscription_create" | "subscription_cycle" | "subscription_update" | "manual";
  periodStart: number;
  periodEnd: number;
  preview?: boolean;
};

/** Builds an invoice (a draft, or a preview that is never stored) with its amounts. */
export function buildInvoice(env: BillingEnv, input: InvoiceInput): Json {
  const { customer, subscription: sub } = input;
  const id = input.preview ? `upcoming_${newId("in")}` : newId("in");
  const lines = input.lines.map((l) => lineJson(sub, input.preview ? null : id, l));
  const total = input.lines.reduce((s, l) => s + l.amount, 0);
  const startingBalance = Number(customer.balance ?? 0);
  const amountDue = Math.max(0, total + startingBalance);
  const currency = (input.lines[0]?.price.currency as string | undefined) ?? (sub?.currency as string | undefined) ?? "usd";
  const invoice = {
    id,
    object: "invoice",
    account_country: "US",
    account_name: "Creditloop (Stripe emulator)",
    account_tax_ids: null,
    amount_due: amountDue,
    amount_overpaid: 0,
    amount_paid: 0,
    amount_remaining: amountDue,
    amount_shipping: 0,
    application: null,
    attempt_count: 0,
    attempted: false,
    auto_advance: !input.preview,
    automatic_tax: { disabled_reason: null, enabled: false, liability: null, provider: null, status: null },
    automatically_finalizes_at: null as number | null,
    billing_reason: input.billingReason,
    collection_method: "charge_automatically",
    created: env.at,
    currency,
    custom_fields: null,
    customer: customer.id as string,
    customer_account: null,
    customer_address: null,
    customer_email: (customer.email as string | null) ?? null,
    customer_name: (customer.name as string | null) ?? null,
    customer_phone: (customer.phone as string | null) ?? null,
    customer_shipping: null,
    customer_tax_exempt: "none",
    customer_tax_ids: [],
    default_payment_method: null,
    default_source: null,
    default_tax_rates: [],
    description: null,
    discounts: [],
    due_date: null,
    effective_at: null as number | null,
    ending_balance: null as number | null,
    footer: null,
    from_invoice: null,
    hosted_invoice_url: null as string | null,
    invoice_pdf: null,
    issuer: { type: "self" },
    last_finalization_error: null,
    latest_revision: null,
    lines: { object: "list", data: lines as never[], has_more: false, url: `/v1/invoices/${id}/lines` },
    livemode: false,
    metadata: {},
    next_payment_attempt: null as number | null,
    number: null as string | null,
    on_behalf_of: null,
    parent: sub
      ? { type: "subscription_details", quote_details: null, subscription_details: { metadata: (sub.metadata as Record<string, string>) ?? {}, subscription: sub.id as string } }
      : null,
    payment_settings: { default_mandate: null, payment_method_options: null, payment_method_types: null },
    payments: { object: "list", data: [] as never[], has_more: false, url: `/v1/invoice_payments?invoice=${id}` },
    period_end: input.periodEnd,
    period_start: input.periodStart,
    post_payment_credit_notes_amount: 0,
    pre_payment_credit_notes_amount: 0,
    receipt_number: null,
    rendering: null,
    shipping_cost: null,
    shipping_details: null,
    starting_balance: startingBalance,
    statement_descriptor: null,
    status: "draft" as string,
    status_transitions: { finalized_at: null as number | null, marked_uncollectible_at: null, paid_at: null as number | null, voided_at: null as number | null },
    subtotal: total,
    subtotal_excluding_tax: total,
    test_clock: (customer.test_clock as string | null) ?? null,
    total,
    total_discount_amounts: [],
    total_excluding_tax: total,
    total_pretax_credit_amounts: [],
    total_taxes: [],
    webhooks_delivered_at: null,
  } satisfies Wire<Stripe.Invoice>;
  if (input.preview) {
    const { payments: _p, ...rest } = invoice;
    return { ...rest, ending_balance: total + startingBalance < 0 ? total + startingBalance : 0 };
  }
  env.store.state.invoices[id] = invoice;
  invoiceMeta(env.store, id);
  return invoice;
}

/** The invoice as Stripe sends it when nothing is expanded: without its includable fields. */
export function publicInvoice(inv: Json): Json {
  const { payments: _p, confirmation_secret: _c, ...rest } = inv;
  return structuredClone(rest);
}

export function emitInvoice(env: BillingEnv, type: string, inv: Json): void {
  emit(env, type, publicInvoice(inv));
}

function adjustBalance(env: BillingEnv, customer: Json, delta: number): void {
  if (delta === 0) return;
  const before = structuredClone(customer);
  customer.balance = Number(customer.balance ?? 0) + delta;
  emitUpdated(env, "customer.updated", customer, before);
}

function invoicePaymentJson(env: BillingEnv, inv: Json, piId: string): Json {
  const payment = {
    id: newId("inpay"),
    object: "invoice_payment",
    amount_paid: null as number | null,
    amount_requested: Number(inv.amount_due),
    created: env.at,
    currency: inv.currency as string,
    invoice: inv.id as string,
    is_default: true,
    livemode: false,
    payment: { type: "payment_intent", payment_intent: piId },
    status: "open",
    status_transitions: { canceled_at: null, paid_at: null as number | null },
  } satisfies Wire<Stripe.InvoicePayment>;
  return payment;
}

export function invoicePaymentIntentId(inv: Json): string | null {
  const data = ((inv.payments as Json | undefined)?.data as Json[] | undefined) ?? [];
  const p = data.find((x) => x.is_default) ?? data[0];
  return ((p?.payment as Json | undefined)?.payment_intent as string | undefined) ?? null;
}

function subscriptionOf(env: BillingEnv, inv: Json): Json | null {
  const id = ((inv.parent as Json | null)?.subscription_details as Json | undefined)?.subscription as string | undefined;
  return id ? (env.store.state.subscriptions[id] ?? null) : null;
}

/**
 * Finalizes a draft: number, balance applied, a PaymentIntent for the amount due (its client
 * secret is the confirmation_secret), invoice.finalized. A $0 invoice is paid at once.
 */
export function finalizeInvoice(env: BillingEnv, inv: Json): void {
  if (inv.status !== "draft") return;
  const customer = customerJson(env.store, inv.customer as string)!;
  const startingBalance = Number(customer.balance ?? 0);
  const total = Number(inv.total);
  const amountDue = Math.max(0, total + startingBalance);
  Object.assign(inv, {
    starting_balance: startingBalance,
    ending_balance: total + startingBalance < 0 ? total + startingBalance : 0,
    amount_due: amountDue,
    amount_remaining: amountDue,
    status: "open",
    number: `${customer.invoice_prefix}-${String(customer.next_invoice_sequence ?? 1).padStart(4, "0")}`,
    effective_at: env.at,
    automatically_finalizes_at: null,
    hosted_invoice_url: `${publicUrl(env)}/i/${inv.id}`,
    invoice_pdf: `${publicUrl(env)}/i/${inv.id}/pdf`,
  });
  customer.next_invoice_sequence = Number(customer.next_invoice_sequence ?? 1) + 1;
  (inv.status_transitions as Json).finalized_at = env.at;
  // The balance covers (or absorbs) this invoice: what is left of it stays on the customer.
  adjustBalance(env, customer, (total + startingBalance < 0 ? total + startingBalance : 0) - startingBalance);

  const minimum = MINIMUM_CHARGE[String(inv.currency)] ?? 1;
  if (amountDue >= minimum) {
    const description = inv.billing_reason === "subscription_create" ? "Subscription creation" : inv.billing_reason === "subscription_cycle" ? "Subscription cycle" : "Subscription update";
    const out = callPaymentIntents(env, "POST", "/v1/payment_intents", {
      amount: String(amountDue),
      currency: String(inv.currency),
      customer: String(inv.customer),
      description,
    });
    if (!out.body) throw out.error ?? new Error("payment intent not created");
    const pi = out.body;
    pi.created = env.at;
    (inv.payments as Json).data = [invoicePaymentJson(env, inv, pi.id as string)];
    inv.confirmation_secret = { client_secret: pi.client_secret as string, type: "payment_intent" } satisfies Stripe.Invoice.ConfirmationSecret;
  }
  emitInvoice(env, "invoice.finalized", inv);
  if (amountDue === 0) markInvoicePaid(env, inv, null);
  else if (amountDue < minimum) {
    // Below the smallest chargeable amount: Stripe carries it to the customer's balance.
    adjustBalance(env, customer, amountDue);
    markInvoicePaid(env, inv, null);
  }
}

/** Paid: amounts, the payment record, invoice.paid + invoice.payment_succeeded, then the subscription. */
export function markInvoicePaid(env: BillingEnv, inv: Json, pi: Json | null): void {
  if (inv.status === "paid") return;
  const due = Number(inv.amount_due);
  Object.assign(inv, { status: "paid", amount_paid: pi ? due : 0, amount_remaining: 0, next_payment_attempt: null, auto_advance: false });
  if (pi) {
    inv.attempted = true;
    inv.attempt_count = Number(inv.attempt_count) + 1; // the successful attempt counts too
  }
  (inv.status_transitions as Json).paid_at = env.at;
  const paidPayments: Json[] = [];
  for (const p of ((inv.payments as Json | undefined)?.data as Json[] | undefined) ?? []) {
    if ((p.payment as Json).payment_intent === pi?.id) {
      p.status = "paid";
      p.amount_paid = due;
      (p.status_transitions as Json).paid_at = env.at;
      paidPayments.push(p);
    }
  }
  if (pi) invoiceMeta(env.store, inv.id as string).seenCharge = (pi.latest_charge as string | null) ?? null;
  for (const p of paidPayments) emit(env, "invoice_payment.paid", p);
  emitInvoice(env, "invoice.paid", inv);
  emitInvoice(env, "invoice.payment_succeeded", inv);

  const sub = subscriptionOf(env, inv);
  if (!sub || sub.status === "canceled" || sub.status === "incomplete_expired") return;
  const meta = subscriptionMeta(env.store, sub.id as string);
  if (meta.pendingUpdateInvoice === inv.id && sub.pending_update) {
    // The invoice of a pending update (payment_behavior=pending_if_incomplete) is paid: apply it.
    const before = structuredClone(sub);
    const pending = sub.pending_update as Json;
    noteMeteredChange(env, sub, (sub.items as Json).data as Json[], pending.subscription_items as Json[]);
    (sub.items as Json).data = structuredClone(pending.subscription_items);
    sub.pending_update = null;
    meta.pendingUpdateInvoice = null;
    emit(env, "customer.subscription.pending_update_applied", sub, changedFields(before, sub));
    emitUpdated(env, "customer.subscription.updated", sub, before);
    return;
  }
  const before = structuredClone(sub);
  if (sub.status === "incomplete") sub.status = Number(sub.trial_end ?? 0) > env.at ? "trialing" : "active";
  else if (sub.status === "past_due" || sub.status === "unpaid") {
    const stillOpen = Object.values(env.store.state.invoices).some((x) => x.status === "open" && subscriptionOf(env, x)?.id === sub.id);
    if (!stillOpen) sub.status = "active";
  }
  const pm = pi?.payment_method as string | null | undefined;
  // The payment method that paid a subscription's invoice is attached to the customer (off-session use).
  const stored = pm ? env.store.state.paymentMethods[pm] : undefined;
  if (stored && !stored.customer) {
    stored.customer = sub.customer as string;
    emit(env, "payment_method.attached", stored as unknown as Json);
  }
  if (pm && (sub.payment_settings as Json | null)?.save_default_payment_method === "on_subscription" && sub.default_payment_method !== pm) {
    sub.default_payment_method = pm;
  }
  emitUpdated(env, "customer.subscription.updated", sub, before);
}

/** A failed collection attempt: the next retry (or none), invoice.payment_failed, the subscription's fall. */
export function recordFailure(env: BillingEnv, inv: Json, kind: "failed" | "action_required", pi: Json | null): void {
  const sub = subscriptionOf(env, inv);
  inv.attempted = true;
  inv.attempt_count = Number(inv.attempt_count) + 1;
  if (pi) invoiceMeta(env.store, inv.id as string).seenCharge = (pi.latest_charge as string | null) ?? null;
  const { retryDays, afterRetries } = env.store.state.billing.settings;
  const firstInvoice = !sub || sub.status === "incomplete";
  const delay = firstInvoice ? undefined : retryDays[Number(inv.attempt_count) - 1];
  inv.next_payment_attempt = delay === undefined ? null : env.at + Math.round(delay * SECONDS_PER_DAY);
  const pendingUpdate = sub ? subscriptionMeta(env.store, sub.id as string).pendingUpdateInvoice === inv.id : false;
  if (pendingUpdate) inv.next_payment_attempt = null; // a pending update's invoice is not retried
  emitInvoice(env, kind === "failed" ? "invoice.payment_failed" : "invoice.payment_action_required", inv);
  if (!sub || firstInvoice || pendingUpdate || sub.status === "canceled") return;
  const before = structuredClone(sub);
  if (sub.status === "active" || sub.status === "trialing") sub.status = "past_due";
  if (inv.next_payment_attempt === null) {
    if (afterRetries === "cancel") {
      emitUpdated(env, "customer.subscription.updated", sub, before);
      endSubscription(env, sub, "payment_failed");
      return;
    }
    if (afterRetries === "unpaid") sub.status = "unpaid";
  }
  emitUpdated(env, "customer.subscription.updated", sub, before);
}

/** The payment method a charge for this invoice uses: the invoice's, the subscription's, the customer's. */
export function collectionMethodFor(env: BillingEnv, inv: Json): string | null {
  const sub = subscriptionOf(env, inv);
  const customer = customerJson(env.store, inv.customer as string);
  return (
    (inv.default_payment_method as string | null) ??
    (sub?.default_payment_method as string | null | undefined) ??
    (((customer?.invoice_settings as Json | undefined)?.default_payment_method as string | null | undefined) ?? null)
  );
}

/**
 * Charges an open invoice (off-session, or with an explicit payment method): confirms its
 * PaymentIntent through the emulator's PaymentIntent endpoint. Returns the outcome.
 */
export function attemptPayment(env: BillingEnv, inv: Json, explicitPm?: string): "paid" | "failed" | "action_required" {
  if (inv.status !== "open") return inv.status === "paid" ? "paid" : "failed";
  const piId = invoicePaymentIntentId(inv);
  const pm = explicitPm ?? collectionMethodFor(env, inv);
  if (!piId) {
    markInvoicePaid(env, inv, null);
    return "paid";
  }
  if (!pm) {
    recordFailure(env, inv, "failed", null);
    return "failed";
  }
  const out = callPaymentIntents(env, "POST", `/v1/payment_intents/${piId}/confirm`, { payment_method: pm, off_session: "true" });
  const pi = paymentIntentJson(env.store, piId)!;
  if (out.body && pi.status === "succeeded") {
    markInvoicePaid(env, inv, pi);
    return "paid";
  }
  if (out.body && pi.status === "requires_action") {
    recordFailure(env, inv, "action_required", pi);
    return "action_required";
  }
  if (out.error && !(out.error instanceof ApiError && out.error.status === 402)) throw out.error;
  recordFailure(env, inv, "failed", pi);
  return "failed";
}

/**
 * Notices payments made outside the billing code (the customer confirming the first invoice's
 * PaymentIntent with Stripe.js, completing 3-D Secure, a payment settling later) and settles the
 * invoice: paid on success, a failed attempt on a new declined charge.
 */
export function reconcileInvoice(env: BillingEnv, inv: Json): void {
  if (inv.status !== "open") return;
  const piId = invoicePaymentIntentId(inv);
  if (!piId) return;
  const pi = paymentIntentJson(env.store, piId);
  if (!pi) return;
  const meta = invoiceMeta(env.store, inv.id as string);
  if (pi.status === "succeeded") return markInvoicePaid(env, inv, pi);
  const charge = (pi.latest_charge as string | null) ?? null;
  if (charge && charge !== meta.seenCharge && pi.status === "requires_payment_method") recordFailure(env, inv, "failed", pi);
}

/** Ends a subscription now: canceled, customer.subscription.deleted. */
export function endSubscription(env: BillingEnv, sub: Json, reason: Stripe.Subscription.CancellationDetails.Reason): void {
  if (sub.status === "canceled") return;
  Object.assign(sub, { status: "canceled", ended_at: env.at, canceled_at: sub.canceled_at ?? env.at, cancel_at: sub.cancel_at ?? null });
  const details = sub.cancellation_details as Json;
  details.reason ??= reason;
  subscriptionMeta(env.store, sub.id as string).pendingItems = [];
  emit(env, "customer.subscription.deleted", sub);
}

/** Voids an open or draft invoice (and cancels its PaymentIntent). */
export function voidInvoice(env: BillingEnv, inv: Json): void {
  if (inv.status !== "open" && inv.status !== "draft") return;
  const piId = invoicePaymentIntentId(inv);
  if (piId) callPaymentIntents(env, "POST", `/v1/payment_intents/${piId}/cancel`, {});
  Object.assign(inv, { status: "void", amount_remaining: 0, next_payment_attempt: null, auto_advance: false });
  (inv.status_transitions as Json).voided_at = env.at;
  emitInvoice(env, "invoice.voided", inv);
}

export const newClientToken = () => randomToken(24);
