// Stripe's events API (for re-syncing after missed webhooks) and the PaymentIntent listing the
// reconciliation reads. Read-only calls: no idempotency keys needed.
import "server-only";
import type Stripe from "stripe";
import { stripe } from "./client";

/** Every event created at or after `since`, oldest first (Stripe lists newest first). */
export async function listEventsSince(since: Date, max = 10_000): Promise<Stripe.Event[]> {
  const out: Stripe.Event[] = [];
  for await (const e of stripe().events.list({ created: { gte: Math.floor(since.getTime() / 1000) }, limit: 100 })) {
    out.push(e);
    if (out.length >= max) break;
  }
  return out.reverse();
}

/** Succeeded PaymentIntents created at or after `since` (all of them when null). */
export async function listSucceededPaymentIntents(since: Date | null, max = 100_000): Promise<Stripe.PaymentIntent[]> {
  const out: Stripe.PaymentIntent[] = [];
  const params: Stripe.PaymentIntentListParams = { limit: 100, ...(since ? { created: { gte: Math.floor(since.getTime() / 1000) } } : {}) };
  for await (const pi of stripe().paymentIntents.list(params)) {
    if (pi.status === "succeeded") out.push(pi);
    if (out.length >= max) break;
  }
  return out;
}
