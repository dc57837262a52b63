// Usage-based prices on invoices. A metered price (recurring.usage_type "metered", billed from a
// Billing Meter) is billed in arrears: nothing for it when a period starts; the invoice that
// closes a period carries one line per metered item with quantity = the meter's aggregate of the
// customer's events timestamped inside the period, × the unit amount. As at Stripe, that line is
// brought up to date when the draft is finalized (an hour after the period end by default), so
// usage reported during that grace hour for the ended period is billed on it.
// A metered item removed or moved to another price during a period (a plan change, a schedule's
// phase) has its usage so far [since, at) carried to the next invoice as a pending line at its
// old price, and its new price counts from then on (billing.subscriptions[…].meteredSince), so
// events are billed once whatever the items did.
import type { Json, Store } from "../store";
import { meterAggregate } from "../resources/meters";
import type { LineInput } from "./invoicing";

function productName(store: Store, price: Json): string {
  const product = store.state.products[price.product as string];
  return (product?.name as string | undefined) ?? String(price.product);
}

function meteredSince(store: Store, subId: string): Record<string, number> {
  const meta = (store.state.billing.subscriptions[subId] ??= { pendingItems: [], upcomingSentFor: null, trialWillEndSentFor: null });
  return (meta.meteredSince ??= {});
}

export function isMetered(price: Json): boolean {
  return (price.recurring as Json | null)?.usage_type === "metered";
}

/** The usage line of one metered item for [start, end). */
export function usageLine(store: Store, price: Json, customer: string, start: number, end: number, subscriptionItem: string): LineInput {
  const meter = (price.recurring as Json).meter as string;
  const quantity = meterAggregate(store, meter, customer, start, end);
  const unit = Number(price.unit_amount);
  return {
    amount: unit * quantity,
    description: `${quantity} × ${productName(store, price)} usage (at $${(unit / 100).toFixed(2)} / unit)`,
    price,
    quantity,
    period: { start, end },
    proration: false,
    subscriptionItem,
  };
}

/** Usage lines of a subscription's metered items for the period that ended (each from when its price applied). */
export function usageLines(store: Store, sub: Json, customer: string, start: number, end: number): LineInput[] {
  const items = (sub.items as Json).data as Json[];
  const since = meteredSince(store, sub.id as string);
  return items
    .filter((it) => isMetered(it.price as Json))
    .map((it) => ({ it, from: Math.max(start, since[it.id as string] ?? start) }))
    .filter(({ from }) => from < end)
    .map(({ it, from }) => usageLine(store, it.price as Json, customer, from, end, it.id as string));
}

/**
 * The subscription's items change at `at` from `before` to `after`: a metered item removed or
 * repriced leaves its usage so far as a pending line (billed on the next invoice); a metered item
 * added or repriced counts from `at`.
 */
export function noteMeteredChange(env: { store: Store; at: number }, sub: Json, before: Json[], after: Json[]): void {
  const since = meteredSince(env.store, sub.id as string);
  const meta = env.store.state.billing.subscriptions[sub.id as string]!;
  for (const o of before) {
    if (!isMetered(o.price as Json)) continue;
    const n = after.find((x) => x.id === o.id);
    if (n && (n.price as Json).id === (o.price as Json).id) continue;
    const from = Math.max(Number(o.current_period_start), since[o.id as string] ?? 0);
    if (env.at <= from) continue;
    const line = usageLine(env.store, o.price as Json, sub.customer as string, from, env.at, o.id as string);
    if (line.quantity > 0) meta.pendingItems.push(line as unknown as Json);
  }
  for (const n of after) {
    if (!isMetered(n.price as Json)) continue;
    const o = before.find((x) => x.id === n.id);
    if (!o || (o.price as Json).id !== (n.price as Json).id) since[n.id as string] = env.at;
  }
}

/** Before a draft is finalized: each metered line takes the meter's current aggregate; totals follow. */
export function refreshUsageLines(store: Store, inv: Json): void {
  const lines = (inv.lines as Json).data as Json[];
  let changed = false;
  for (const line of lines) {
    const priceId = ((line.pricing as Json | null)?.price_details as Json | undefined)?.price as string | undefined;
    const price = priceId ? store.state.prices[priceId] : undefined;
    if (!price || !isMetered(price)) continue;
    const period = line.period as { start: number; end: number };
    const fresh = usageLine(store, price, inv.customer as string, period.start, period.end, "");
    if (fresh.quantity === line.quantity) continue;
    Object.assign(line, { amount: fresh.amount, subtotal: fresh.amount, quantity: fresh.quantity, quantity_decimal: String(fresh.quantity), description: fresh.description });
    changed = true;
  }
  if (!changed) return;
  const total = lines.reduce((s, l) => s + Number(l.amount), 0);
  Object.assign(inv, { subtotal: total, subtotal_excluding_tax: total, total, total_excluding_tax: total });
}
