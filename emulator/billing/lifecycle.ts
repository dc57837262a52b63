// A subscription's life on its clock: building it and its items, starting a new period (renewal,
// trial end, interval change: a draft invoice finalized an hour later as Stripe does, or at once
// for an update), price changes with prorations (by the second over the period, one credit line
// for the unused time on the old price and one charge for the remaining time on the new),
// pending proration items carried to the next invoice. Invariant: every item of a subscription
// shares one current period, and the period moves only forward.
import type Stripe from "stripe";
import { invalidRequest, missing } from "../errors";
import { newId } from "../ids";
import type { Wire } from "../resources/wire";
import type { Json } from "../store";
import { customerJson, emitUpdated, type BillingEnv } from "./env";
import {
  attemptPayment,
  buildInvoice,
  emitInvoice,
  endSubscription,
  finalizeInvoice,
  periodLine,
  prorationLine,
  subscriptionMeta,
  type LineInput,
} from "./invoicing";
import { periodEnd, remainingFraction, type Interval } from "./periods";
import { isMetered, usageLines } from "./metering";

export type ItemSpec = { id?: string; price: Json; quantity: number };

export function planFromPrice(price: Json): Json {
  const r = price.recurring as Json;
  return {
    id: price.id as string,
    object: "plan",
    active: price.active as boolean,
    amount: price.unit_amount as number,
    amount_decimal: String(price.unit_amount),
    billing_scheme: "per_unit",
    created: price.created as number,
    currency: price.currency as string,
    interval: r.interval as string,
    interval_count: r.interval_count as number,
    livemode: false,
    metadata: (price.metadata as Record<string, string>) ?? {},
    meter: (r.meter as string | null | undefined) ?? null,
    nickname: (price.nickname as string | null) ?? null,
    product: price.product as string,
    tiers_mode: null,
    transform_usage: null,
    trial_period_days: null,
    usage_type: r.usage_type === "metered" ? "metered" : "licensed",
  } satisfies Wire<Stripe.Plan>;
}

export function itemJson(subId: string, spec: ItemSpec, start: number, end: number, created: number): Json {
  return {
    id: spec.id ?? newId("si"),
    object: "subscription_item",
    billing_thresholds: null,
    created,
    current_period_end: end,
    current_period_start: start,
    current_trial: null,
    discounts: [],
    metadata: {},
    plan: planFromPrice(spec.price) as Wire<Stripe.Plan>,
    price: structuredClone(spec.price) as Wire<Stripe.Price>,
    quantity: spec.quantity,
    subscription: subId,
    tax_rates: [],
  } satisfies Wire<Stripe.SubscriptionItem>;
}

export function items(sub: Json): Json[] {
  return (sub.items as Json).data as Json[];
}

export function currentPeriod(sub: Json): { start: number; end: number } {
  const first = items(sub)[0]!;
  return { start: first.current_period_start as number, end: first.current_period_end as number };
}

export function recurringOf(price: Json): { interval: Interval; count: number } {
  const r = price.recurring as Json | null;
  if (!r) throw invalidRequest(`The price specified (${price.id}) is not recurring. Subscriptions only accept recurring prices.`, { param: "items" });
  return { interval: r.interval as Interval, count: Number(r.interval_count) };
}

function setPeriod(sub: Json, start: number, end: number): void {
  for (const it of items(sub)) {
    it.current_period_start = start;
    it.current_period_end = end;
  }
}

function nextEnd(sub: Json, start: number): number {
  const { interval, count } = recurringOf(items(sub)[0]!.price as Json);
  return periodEnd(Number(sub.billing_cycle_anchor), start, interval, count);
}

function takePending(env: BillingEnv, sub: Json): LineInput[] {
  const meta = subscriptionMeta(env.store, sub.id as string);
  const pending = meta.pendingItems as unknown as LineInput[];
  meta.pendingItems = [];
  return pending;
}

/**
 * A new period begins at `start` (renewal, trial end, or an update that resets the anchor): the
 * items move to it, the subscription is updated, and its invoice (pending items + the period) is
 * created — finalized an hour later for a cycle, at once for an update.
 */
export function startPeriod(env: BillingEnv, sub: Json, start: number, reason: "subscription_cycle" | "subscription_update", extraLines: LineInput[] = [], before = structuredClone(sub), collect = true): Json {
  const end = nextEnd(sub, start);
  // A cycle invoice's own period is the one that just ended (Stripe bills lines for the new one).
  const ended = { start: currentPeriod(sub).start, end: start };
  const invoicePeriod = reason === "subscription_cycle" ? ended : { start, end: start };
  setPeriod(sub, start, end);
  if (sub.status === "trialing" && Number(sub.trial_end) <= start) sub.status = "active";
  const customer = customerJson(env.store, sub.customer as string)!;
  // Metered items: the usage of the period that ended, in arrears; licensed items: the new period.
  const usage = ended.end > ended.start ? usageLines(env.store, sub, customer.id as string, ended.start, ended.end) : [];
  const licensed = items(sub).filter((it) => !isMetered(it.price as Json));
  const lines = [...extraLines, ...takePending(env, sub), ...usage, ...licensed.map((it) => periodLine(env.store, it.price as Json, Number(it.quantity), start, end, it.id as string))];
  const inv = buildInvoice(env, { customer, subscription: sub, lines, billingReason: reason, periodStart: invoicePeriod.start, periodEnd: invoicePeriod.end });
  sub.latest_invoice = inv.id;
  const unpaid = sub.status === "unpaid";
  emitUpdated(env, "customer.subscription.updated", sub, before);
  emitInvoice(env, "invoice.created", inv);
  const delay = env.store.state.billing.settings.finalizeDelaySeconds;
  if (unpaid) inv.auto_advance = false; // an unpaid subscription's invoices stay drafts
  else if (reason === "subscription_cycle" && delay > 0) inv.automatically_finalizes_at = start + delay;
  else {
    finalizeInvoice(env, inv);
    if (inv.status === "open" && collect) attemptPayment(env, inv);
  }
  return inv;
}

/** The period ended: cancel if asked to, else renew. */
export function periodEnded(env: BillingEnv, sub: Json): void {
  if (sub.cancel_at_period_end || (sub.cancel_at !== null && Number(sub.cancel_at) <= env.at)) {
    return endSubscription(env, sub, "cancellation_requested");
  }
  startPeriod(env, sub, currentPeriod(sub).end, "subscription_cycle");
}

export type Change = { specs: ItemSpec[]; prorations: LineInput[]; intervalChanged: boolean; changed: boolean };

/** Parses items[] of an update or a preview against the subscription's items. */
export function itemSpecs(env: BillingEnv, sub: Json, param: unknown): { specs: ItemSpec[]; changed: boolean } {
  const current: ItemSpec[] = items(sub).map((it) => ({ id: it.id as string, price: it.price as Json, quantity: Number(it.quantity) }));
  if (param === undefined) return { specs: current, changed: false };
  const list = Array.isArray(param) ? param : Object.values(param as object);
  let specs = [...current];
  let changed = false;
  for (const raw of list as Json[]) {
    const priceId = typeof raw.price === "string" ? raw.price : undefined;
    const price = priceId ? env.store.state.prices[priceId] : undefined;
    if (priceId && !price) throw missing("price", priceId, "items[0][price]");
    const quantity = raw.quantity === undefined ? undefined : Number(raw.quantity);
    if (quantity !== undefined && (!Number.isInteger(quantity) || quantity < 1)) throw invalidRequest("Invalid integer: quantity", { param: "items[0][quantity]" });
    if (typeof raw.id === "string") {
      const i = specs.findIndex((s) => s.id === raw.id);
      if (i < 0) throw invalidRequest(`Subscription item ${raw.id} does not belong to subscription ${sub.id}.`, { param: "items[0][id]" });
      if (raw.deleted === "true") specs = specs.filter((_, j) => j !== i);
      else specs[i] = { id: raw.id, price: price ?? specs[i]!.price, quantity: quantity ?? specs[i]!.quantity };
      changed = true;
    } else {
      if (!price) throw invalidRequest("Missing required param: items[0][price].", { code: "parameter_missing", param: "items[0][price]" });
      specs.push({ price, quantity: quantity ?? 1 });
      changed = true;
    }
  }
  if (specs.length === 0) throw invalidRequest("A subscription must have at least one active plan.", { param: "items" });
  for (const s of specs) {
    if (!s.price.active) throw invalidRequest(`The price specified is inactive. This field only accepts active prices.`, { param: "items" });
    recurringOf(s.price);
    if (s.price.currency !== sub.currency) throw invalidRequest(`The price specified (${s.price.id}) does not have a ${sub.currency} currency.`, { param: "items" });
  }
  return { specs, changed };
}

/** What a change of items costs: proration lines at `at` (none during a trial or with proration_behavior none). */
export function computeChange(env: BillingEnv, sub: Json, param: unknown, behaviour: string, at: number): Change {
  const { specs, changed } = itemSpecs(env, sub, param);
  const old = recurringOf(items(sub)[0]!.price as Json);
  const neu = recurringOf(specs[0]!.price);
  const intervalChanged = old.interval !== neu.interval || old.count !== neu.count;
  const prorations: LineInput[] = [];
  if (!changed || behaviour === "none" || sub.status === "trialing") return { specs, prorations, intervalChanged, changed };
  const { start, end } = currentPeriod(sub);
  const frac = remainingFraction(start, end, at);
  const oldById = new Map(items(sub).map((it) => [it.id as string, it]));
  for (const it of items(sub)) {
    if (isMetered(it.price as Json)) continue; // billed in arrears from its meter: nothing to prorate
    const s = specs.find((x) => x.id === it.id);
    const same = s && s.price.id === (it.price as Json).id && s.quantity === Number(it.quantity);
    if (same) continue;
    const amount = Number((it.price as Json).unit_amount) * Number(it.quantity);
    prorations.push(prorationLine(env.store, "unused", it.price as Json, Number(it.quantity), -Math.round(amount * frac), at, end, it.id as string));
  }
  if (!intervalChanged) {
    for (const s of specs) {
      if (isMetered(s.price)) continue;
      const o = s.id ? oldById.get(s.id) : undefined;
      if (o && (o.price as Json).id === s.price.id && Number(o.quantity) === s.quantity) continue;
      const amount = Number(s.price.unit_amount) * s.quantity;
      prorations.push(prorationLine(env.store, "remaining", s.price, s.quantity, Math.round(amount * frac), at, end, s.id ?? "si_pending"));
    }
  }
  return { specs, prorations, intervalChanged, changed };
}

/** Replaces the subscription's items with the specs, keeping (or setting) the period. */
export function applyItems(env: BillingEnv, sub: Json, specs: ItemSpec[]): void {
  const { start, end } = currentPeriod(sub);
  const old = new Map(items(sub).map((it) => [it.id as string, it]));
  const next = specs.map((s) => {
    const o = s.id ? old.get(s.id) : undefined;
    return itemJson(sub.id as string, s, start, end, o ? Number(o.created) : env.at);
  });
  (sub.items as Json).data = next;
  // Prorations for new items refer to them by id now that they have one.
  sub.currency = (specs[0]!.price.currency as string) ?? sub.currency;
}

export function fixPendingItemIds(prorations: LineInput[], sub: Json): void {
  const byPrice = new Map(items(sub).map((it) => [(it.price as Json).id as string, it.id as string]));
  for (const l of prorations) if (l.subscriptionItem === "si_pending") l.subscriptionItem = byPrice.get(l.price.id as string) ?? l.subscriptionItem;
}
