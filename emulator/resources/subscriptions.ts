// Subscriptions: create (payment_behavior default_incomplete / allow_incomplete, trials),
// retrieve, update (items with proration_behavior, cancel_at_period_end, default payment method,
// trial_end "now", metadata), cancel, list. Shapes follow the SDK's pinned API version: periods
// on the items, the first invoice's client secret under latest_invoice.confirmation_secret (when
// expanded). Time is the customer's test clock when it has one.
import type Stripe from "stripe";
import { invalidInteger, invalidRequest, missing, parameterMissing } from "../errors";
import { bool, int, metadata, str } from "../form";
import { newId } from "../ids";
import type { Json } from "../store";
import { customerJson, emit, emitUpdated, envFromCtx, jsonItems, type BillingEnv } from "../billing/env";
import {
  attemptPayment,
  buildInvoice,
  collectionMethodFor,
  emitInvoice,
  endSubscription,
  finalizeInvoice,
  periodLine,
  subscriptionMeta,
} from "../billing/invoicing";
import { applyItems, computeChange, fixPendingItemIds, itemJson, recurringOf, startPeriod, type Change, type ItemSpec } from "../billing/lifecycle";
import { periodEnd, SECONDS_PER_DAY } from "../billing/periods";
import { BILLING_ACCEPTED } from "../billing/params";
import { listOf, type Ctx, type Route } from "./context";
import { requireAttached } from "./payment-method-attach";
import type { Wire } from "./wire";
import { isMetered, noteMeteredChange } from "../billing/metering";

export function getSubscription(ctx: Pick<Ctx, "store">, id: string): Json {
  const s = ctx.store.state.subscriptions[id];
  if (!s) throw missing("subscription", id);
  return s;
}

const notEmulated = (what: string) => invalidRequest(`${what} is not supported by the Stripe emulator.`, { code: "emulator_unsupported" });

/** A default payment method must be a PaymentMethod attached to the customer, as Stripe requires. */
function validatePaymentMethod(ctx: Ctx, id: string | undefined, param: string, customer: string): string | null {
  if (!id) return null;
  return requireAttached(ctx, id, customer, param).id;
}

function parseItems(ctx: Ctx, raw: unknown): ItemSpec[] {
  if (raw === undefined) throw parameterMissing("items");
  const list = (Array.isArray(raw) ? raw : Object.values(raw as object)) as Json[];
  if (list.length === 0) throw parameterMissing("items");
  return list.map((r, i) => {
    const priceId = str(r.price);
    if (!priceId) throw parameterMissing(`items[${i}][price]`);
    const price = ctx.store.state.prices[priceId];
    if (!price) throw missing("price", priceId, `items[${i}][price]`);
    if (!price.active) throw invalidRequest("The price specified is inactive. This field only accepts active prices.", { param: `items[${i}][price]` });
    const quantity = r.quantity === undefined ? 1 : int(r.quantity);
    if (quantity === undefined || Number.isNaN(quantity) || quantity < 1) throw invalidInteger(`items[${i}][quantity]`, r.quantity);
    recurringOf(price);
    return { price, quantity };
  });
}

function create(ctx: Ctx): Json {
  const p = ctx.params;
  const customerId = str(p.customer);
  if (!customerId) throw parameterMissing("customer");
  const customer = customerJson(ctx.store, customerId);
  if (!customer) throw missing("customer", customerId, "customer");
  const specs = parseItems(ctx, p.items);
  const currency = specs[0]!.price.currency as string;
  const first = recurringOf(specs[0]!.price);
  for (const s of specs) {
    if (s.price.currency !== currency) throw invalidRequest("All prices on a subscription must have the same currency.", { param: "items" });
    const r = recurringOf(s.price);
    if (r.interval !== first.interval || r.count !== first.count) throw invalidRequest("All prices on a subscription must have the same recurring interval and interval_count.", { param: "items" });
  }
  const behaviour = str(p.payment_behavior) ?? "allow_incomplete";
  if (behaviour === "error_if_incomplete" || behaviour === "pending_if_incomplete") throw notEmulated(`payment_behavior=${behaviour} on create`);
  if (behaviour !== "allow_incomplete" && behaviour !== "default_incomplete") throw invalidRequest(`Invalid payment_behavior: ${behaviour}`, { param: "payment_behavior" });
  const env = envFromCtx(ctx, customer.test_clock as string | null);
  const at = env.at;
  let trialEnd: number | null = null;
  if (p.trial_period_days !== undefined) {
    const days = int(p.trial_period_days);
    if (days === undefined || Number.isNaN(days) || days < 0 || days > 730) throw invalidInteger("trial_period_days", p.trial_period_days);
    if (days > 0) trialEnd = at + days * SECONDS_PER_DAY;
  }
  if (p.trial_end !== undefined && p.trial_end !== "now") {
    const t = int(p.trial_end);
    if (t === undefined || Number.isNaN(t) || t <= at) throw invalidRequest("Invalid timestamp: must be an integer Unix timestamp in the future.", { param: "trial_end" });
    trialEnd = t;
  }
  const defaultPm = validatePaymentMethod(ctx, str(p.default_payment_method), "default_payment_method", customerId);
  const ps = (p.payment_settings as Json | undefined) ?? {};
  const save = str(ps.save_default_payment_method) ?? "off";
  if (save !== "off" && save !== "on_subscription") throw invalidRequest(`Invalid payment_settings[save_default_payment_method]: ${save}`, { param: "payment_settings[save_default_payment_method]" });

  const id = newId("sub");
  const anchor = trialEnd ?? at;
  const end = trialEnd ?? periodEnd(anchor, at, first.interval, first.count);
  const sub = {
    id,
    object: "subscription",
    application: null,
    application_fee_percent: null,
    automatic_tax: { disabled_reason: null, enabled: false, liability: null },
    billing_cycle_anchor: anchor,
    billing_cycle_anchor_config: null,
    billing_mode: { type: "classic", flexible: null },
    billing_schedules: [],
    billing_thresholds: null,
    cancel_at: null as number | null,
    cancel_at_period_end: false,
    canceled_at: null as number | null,
    cancellation_details: { comment: null, feedback: null, feedback_option: null, reason: null },
    collection_method: "charge_automatically",
    created: at,
    currency,
    customer: customerId,
    customer_account: null,
    days_until_due: null,
    default_payment_method: defaultPm as string | null,
    default_source: null,
    default_tax_rates: [],
    description: str(p.description) ?? null,
    discounts: [],
    ended_at: null as number | null,
    invoice_settings: { account_tax_ids: null, custom_fields: null, description: null, footer: null, issuer: { type: "self" } },
    items: { object: "list", data: specs.map((s) => itemJson(id, s, at, end, at)) as never[], has_more: false, url: `/v1/subscription_items?subscription=${id}` },
    latest_invoice: null as string | null,
    livemode: false,
    managed_payments: null,
    metadata: metadata(p.metadata),
    next_pending_invoice_item_invoice: null,
    on_behalf_of: null,
    pause_collection: null,
    payment_settings: { payment_method_options: null, payment_method_types: null, save_default_payment_method: save },
    pending_invoice_item_interval: null,
    pending_setup_intent: null,
    pending_update: null,
    schedule: null,
    start_date: at,
    status: (trialEnd ? "trialing" : "incomplete") as string,
    test_clock: (customer.test_clock as string | null) ?? null,
    transfer_data: null,
    trial_end: trialEnd,
    trial_settings: { end_behavior: { billing_cycle_anchor: null, missing_payment_method: "create_invoice" } },
    trial_start: trialEnd ? at : null,
  } satisfies Wire<Stripe.Subscription>;
  ctx.store.state.subscriptions[id] = sub;
  subscriptionMeta(ctx.store, id);

  // Metered items are billed in arrears (billing/metering.ts): nothing on the first invoice.
  const lines = sub.items.data.filter((it: Json) => !isMetered(it.price as Json)).map((it: Json) => {
    const line = periodLine(ctx.store, it.price as Json, Number(it.quantity), at, end, it.id as string);
    return trialEnd ? { ...line, amount: 0, description: `Trial period for ${line.description.replace(/^\d+ × /, "").replace(/ \(at .*\)$/, "")}` } : line;
  });
  const inv = buildInvoice(env, { customer, subscription: sub, lines, billingReason: "subscription_create", periodStart: at, periodEnd: at });
  sub.latest_invoice = inv.id as string;
  emit(env, "customer.subscription.created", sub);
  emitInvoice(env, "invoice.created", inv);
  finalizeInvoice(env, inv);
  if (inv.status === "open" && behaviour === "allow_incomplete" && collectionMethodFor(env, inv)) attemptPayment(env, inv);
  return sub;
}

const PRORATION = ["create_prorations", "always_invoice", "none"];

function update(ctx: Ctx, sub: Json): Json {
  const p = ctx.params;
  if (sub.status === "canceled" || sub.status === "incomplete_expired") {
    throw invalidRequest("A canceled subscription can only update its cancellation_details and metadata.", { code: "resource_missing" });
  }
  const env: BillingEnv = envFromCtx(ctx, sub.test_clock as string | null);
  const before = structuredClone(sub);
  const behaviour = str(p.proration_behavior) ?? "create_prorations";
  if (!PRORATION.includes(behaviour)) throw invalidRequest(`Invalid proration_behavior: must be one of ${PRORATION.join(", ")}`, { param: "proration_behavior" });
  const paymentBehaviour = str(p.payment_behavior) ?? "allow_incomplete";
  if (!["allow_incomplete", "default_incomplete", "pending_if_incomplete"].includes(paymentBehaviour)) throw notEmulated(`payment_behavior=${paymentBehaviour} on update`);
  const prorationDate = p.proration_date === undefined ? env.at : int(p.proration_date);
  if (prorationDate === undefined || Number.isNaN(prorationDate)) throw invalidInteger("proration_date", p.proration_date);

  // Validate everything before changing anything.
  const change = computeChange(env, sub, p.items, behaviour, prorationDate);
  const pm = p.default_payment_method === undefined ? undefined : p.default_payment_method === "" ? null : validatePaymentMethod(ctx, str(p.default_payment_method), "default_payment_method", sub.customer as string);
  const cancelAtPeriodEnd = bool(p.cancel_at_period_end);
  const trialEndNow = p.trial_end === "now";
  if (p.trial_end !== undefined && !trialEndNow) throw notEmulated("trial_end other than \"now\" on update");

  if (paymentBehaviour === "pending_if_incomplete") {
    const allowed = new Set(["items", "proration_behavior", "proration_date", "payment_behavior", "expand"]);
    const other = Object.keys(p).find((k) => !allowed.has(k));
    if (other) throw invalidRequest(`You cannot update \`${other}\` with payment_behavior=pending_if_incomplete.`, { param: other });
    if (change.changed && change.intervalChanged) throw notEmulated("pending_if_incomplete with a change of interval");
    if (change.changed && change.prorations.length > 0 && sub.status !== "trialing") return pendingUpdate(env, sub, change, before, p);
  }
  if (p.metadata !== undefined) sub.metadata = metadata(p.metadata, sub.metadata as Record<string, string>);
  if (p.description !== undefined) sub.description = str(p.description) || null;
  if (pm !== undefined) sub.default_payment_method = pm;
  if (cancelAtPeriodEnd !== undefined && cancelAtPeriodEnd !== sub.cancel_at_period_end) {
    const end = Number(((sub.items as Json).data as Json[])[0]!.current_period_end);
    const periodEndsAt = sub.status === "trialing" ? Number(sub.trial_end) : end;
    Object.assign(sub, cancelAtPeriodEnd
      ? { cancel_at_period_end: true, cancel_at: periodEndsAt, canceled_at: env.at }
      : { cancel_at_period_end: false, cancel_at: null, canceled_at: null });
    const details = sub.cancellation_details as Json;
    const cd = p.cancellation_details as Json | undefined;
    Object.assign(details, cancelAtPeriodEnd
      ? { reason: "cancellation_requested", comment: str(cd?.comment) ?? null, feedback: str(cd?.feedback) ?? null }
      : { reason: null, comment: null, feedback: null });
  }

  const collect = paymentBehaviour === "allow_incomplete";
  if (change.changed) {
    const itemsBefore = structuredClone((sub.items as Json).data as Json[]);
    applyItems(env, sub, change.specs);
    noteMeteredChange(env, sub, itemsBefore, (sub.items as Json).data as Json[]);
    fixPendingItemIds(change.prorations, sub);
    if (change.intervalChanged && sub.status !== "trialing") {
      // A new interval resets the billing cycle: the new period starts now and is invoiced now.
      sub.billing_cycle_anchor = env.at;
      const inv = startPeriod(env, sub, env.at, "subscription_update", change.prorations, before, collect);
      void inv;
      return sub;
    }
    if (behaviour === "always_invoice" && change.prorations.length > 0) {
      const meta = subscriptionMeta(ctx.store, sub.id as string);
      const lines = [...(meta.pendingItems as never[]), ...change.prorations];
      meta.pendingItems = [];
      const customer = customerJson(ctx.store, sub.customer as string)!;
      const inv = buildInvoice(env, { customer, subscription: sub, lines, billingReason: "subscription_update", periodStart: env.at, periodEnd: env.at });
      sub.latest_invoice = inv.id;
      emitUpdated(env, "customer.subscription.updated", sub, before);
      emitInvoice(env, "invoice.created", inv);
      finalizeInvoice(env, inv);
      if (inv.status === "open" && collect) attemptPayment(env, inv);
      return sub;
    }
    if (behaviour === "create_prorations") subscriptionMeta(ctx.store, sub.id as string).pendingItems.push(...(change.prorations as never[]));
  }
  if (trialEndNow && sub.status === "trialing") {
    sub.trial_end = env.at;
    sub.billing_cycle_anchor = env.at;
    startPeriod(env, sub, env.at, "subscription_update", [], before, collect);
    return sub;
  }
  emitUpdated(env, "customer.subscription.updated", sub, before);
  return sub;
}

/**
 * payment_behavior=pending_if_incomplete: the change is invoiced (its prorations) and applied
 * only once that invoice is paid. Paid now → applied now; declined → `pending_update` holds it
 * until the invoice is paid (customer.subscription.pending_update_applied) or 23 hours pass
 * (customer.subscription.pending_update_expired, the invoice voided). The subscription's status
 * does not change and the invoice is not retried.
 */
function pendingUpdate(env: BillingEnv, sub: Json, change: Change, before: Json, _p: Record<string, unknown>): Json {
  const meta = subscriptionMeta(env.store, sub.id as string);
  const customer = customerJson(env.store, sub.customer as string)!;
  // The items as they would be, with the prorations pointing at them.
  const draft = structuredClone(sub);
  applyItems(env, draft, change.specs);
  fixPendingItemIds(change.prorations, draft);
  const inv = buildInvoice(env, { customer, subscription: sub, lines: change.prorations, billingReason: "subscription_update", periodStart: env.at, periodEnd: env.at });
  sub.latest_invoice = inv.id;
  meta.pendingUpdateInvoice = inv.id as string;
  emitInvoice(env, "invoice.created", inv);
  finalizeInvoice(env, inv);
  if (inv.status === "open") attemptPayment(env, inv);
  if (inv.status === "paid") {
    meta.pendingUpdateInvoice = null;
    noteMeteredChange(env, sub, (sub.items as Json).data as Json[], (draft.items as Json).data as Json[]);
    (sub.items as Json).data = (draft.items as Json).data;
  } else {
    sub.pending_update = {
      billing_cycle_anchor: null,
      cancel_at_period_end: null,
      discount: null,
      discounts: null,
      expires_at: env.at + 23 * 60 * 60,
      metadata: null,
      subscription_items: (draft.items as Json).data as never[],
      trial_end: null,
      trial_from_plan: null,
    } satisfies Wire<Stripe.Subscription.PendingUpdate>;
  }
  emitUpdated(env, "customer.subscription.updated", sub, before);
  return sub;
}

export const subscriptionRoutes: Route[] = [
  { method: "POST", pattern: /^\/v1\/subscriptions$/, accepts: BILLING_ACCEPTED.subscriptionCreate, returns: "subscription", handle: (ctx) => ({ body: create(ctx) }) },
  {
    method: "GET",
    pattern: /^\/v1\/subscriptions\/([^/]+)$/,
    accepts: BILLING_ACCEPTED.subscriptionRetrieve,
    returns: "subscription",
    handle: (ctx, m) => ({ body: getSubscription(ctx, m[1]!) }),
  },
  { method: "POST", pattern: /^\/v1\/subscriptions\/([^/]+)$/, accepts: BILLING_ACCEPTED.subscriptionUpdate, returns: "subscription", handle: (ctx, m) => ({ body: update(ctx, getSubscription(ctx, m[1]!)) }) },
  {
    method: "DELETE",
    pattern: /^\/v1\/subscriptions\/([^/]+)$/,
    accepts: BILLING_ACCEPTED.subscriptionCancel,
    returns: "subscription",
    handle: (ctx, m) => {
      const sub = getSubscription(ctx, m[1]!);
      if (sub.status === "canceled") throw invalidRequest(`A canceled subscription cannot be canceled again.`, { code: "resource_missing" });
      const env = envFromCtx(ctx, sub.test_clock as string | null);
      const cd = ctx.params.cancellation_details as Json | undefined;
      if (cd) Object.assign(sub.cancellation_details as Json, { comment: str(cd.comment) ?? null, feedback: str(cd.feedback) ?? null });
      endSubscription(env, sub, "cancellation_requested");
      return { body: sub };
    },
  },
  {
    method: "GET",
    pattern: /^\/v1\/subscriptions$/,
    accepts: BILLING_ACCEPTED.subscriptionList,
    returns: "list:subscription",
    handle: (ctx) => {
      const p = ctx.params;
      let all = Object.values(ctx.store.state.subscriptions).reverse();
      if (typeof p.customer === "string") all = all.filter((s) => s.customer === p.customer);
      if (typeof p.test_clock === "string") all = all.filter((s) => s.test_clock === p.test_clock);
      if (typeof p.price === "string") all = all.filter((s) => ((s.items as Json).data as Json[]).some((it) => (it.price as Json).id === p.price));
      const status = typeof p.status === "string" ? p.status : undefined;
      if (status === undefined) all = all.filter((s) => s.status !== "canceled" && s.status !== "incomplete_expired");
      else if (status === "ended") all = all.filter((s) => s.status === "canceled" || s.status === "incomplete_expired");
      else if (status !== "all") all = all.filter((s) => s.status === status);
      const body = listOf("/v1/subscriptions", jsonItems(all), p);
      return { body };
    },
  },
];
