// Usage-based prices on invoices. A metered price (recurring.usage_type "metered", billed from a
// Billing Meter) is billed in arrears: nothing for it when a period starts; the invoice that
// closes a period carries one line per metered item with quantity = the meter's aggregate of the
// customer's events timestamped inside the period, × the unit amount. As at Stripe, that line is
// brought up to date when the draft is finalized (an hour after the period end by default), so
// usage reported during that grace hour for the ended period is billed on it.
import type { Json, Store } from "../store";
import { meterAggregate } from "../resources/meters";
import { productName, type LineInput } from "./invoicing";

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

/** Usage lines of a subscription's metered items for the period that ended. */
export function usageLines(store: Store, sub: Json, customer: string, start: number, end: number): LineInput[] {
  const items = (sub.items as Json).data as Json[];
  return items.filter((it) => isMetered(it.price as Json)).map((it) => usageLine(store, it.price as Json, customer, start, end, it.id as string));
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
