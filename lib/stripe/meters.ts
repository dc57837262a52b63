// Stripe Billing Meters: reporting overage usage as meter events (lib/usage/push.ts).
// A meter event carries our batch's identifier (`usage-batch:<id>`), and the request uses the same
// string as its idempotency key. Stripe does not count an identifier twice (it enforces uniqueness
// for at least 24 hours): a re-send with the same key within 24 h replays the first answer, and a
// re-send of an identifier it already holds under another key is refused with 400 "An event
// already exists with identifier …" — which, for us, means "already reported".
import "server-only";
import Stripe from "stripe";
import { OVERAGE_METER_EVENT } from "../plans/catalogue";
import { stripe } from "./client";

export type MeterEventOutcome = "created" | "duplicate";

export async function reportMeterEvent(p: { identifier: string; customerId: string; value: number; timestamp: Date }): Promise<MeterEventOutcome> {
  try {
    await stripe().billing.meterEvents.create(
      {
        event_name: OVERAGE_METER_EVENT,
        identifier: p.identifier,
        payload: { stripe_customer_id: p.customerId, value: String(p.value) },
        timestamp: Math.floor(p.timestamp.getTime() / 1000),
      },
      { idempotencyKey: p.identifier },
    );
    return "created";
  } catch (e) {
    if (isDuplicateIdentifier(e)) return "duplicate";
    throw e;
  }
}

export function isDuplicateIdentifier(e: unknown): boolean {
  return e instanceof Stripe.errors.StripeInvalidRequestError && /already exists with identifier/i.test(e.message);
}

/** Stripe refused the event itself (bad timestamp, unknown customer…): retrying will not help. */
export function isPermanentMeterError(e: unknown): boolean {
  return e instanceof Stripe.errors.StripeInvalidRequestError && !isDuplicateIdentifier(e) && e.statusCode === 400;
}

/** The active overage meter (created by `npm run stripe:sync`), or null when there is none. */
export async function findOverageMeter(): Promise<Stripe.Billing.Meter | null> {
  for await (const meter of stripe().billing.meters.list({ status: "active", limit: 100 })) {
    if (meter.event_name === OVERAGE_METER_EVENT) return meter;
  }
  return null;
}

/** What the meter holds for a customer between two minute-aligned times (seconds; end exclusive). */
export async function meterTotal(meterId: string, customerId: string, startTime: number, endTime: number): Promise<number> {
  let total = 0;
  for await (const s of stripe().billing.meters.listEventSummaries(meterId, { customer: customerId, start_time: startTime, end_time: endTime, limit: 100 })) {
    total += s.aggregated_value;
  }
  return total;
}
