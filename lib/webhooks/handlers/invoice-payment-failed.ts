import type Stripe from "stripe";
import type { Tx } from "@/db/client";
import { invoiceSubscriptionId } from "../../stripe/billing";
import { syncSubscription } from "../../subscriptions/sync";
import type { HandlerResult } from "./types";

/**
 * invoice.payment_failed: re-read the subscription. If Stripe now has it past_due (a failed
 * renewal), the mirror starts the grace period and schedules its end (lib/subscriptions/
 * dunning.ts); a declined first payment leaves it incomplete, which is not a delinquency.
 */
export async function onInvoicePaymentFailed(tx: Tx, event: Stripe.InvoicePaymentFailedEvent): Promise<HandlerResult> {
  const subId = invoiceSubscriptionId(event.data.object);
  if (!subId) return { detail: "not a subscription invoice" };
  const result = await syncSubscription(tx, subId);
  if (!result) return { detail: "not our subscription" };
  const { row } = result;
  return { detail: `subscription ${row.id} ${row.status}${row.graceEndsAt ? `, grace until ${row.graceEndsAt.toISOString()}` : ""}` };
}
