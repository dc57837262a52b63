// Cancelling PaymentIntents and settling from the result: the person paying walks away, an
// abandoned checkout's hold is reclaimed, or the cancel job follows a decline / a lost link race.
// The intent is cancelled at Stripe first and the purchase then takes whatever state Stripe
// reports — "succeeded" if the payment won the race (credits granted), "canceled" only once
// Stripe says so (hold released then, never before).
import Stripe from "stripe";
import { and, eq } from "drizzle-orm";
import type { Db } from "@/db/client";
import { purchases } from "@/db/schema";
import { AppError } from "../errors";
import type { OrgRole } from "../auth/roles";
import { cancelPaymentIntent, retrievePaymentIntent } from "../stripe/payment-intents";
import type { JobData } from "../jobs/queue";
import { log } from "../log";
import { settleFromPaymentIntent, type SettleResult } from "./settle";
import { assertMayActOnPurchase } from "./ownership";

const CANCELLABLE = new Set<Stripe.PaymentIntent.Status>(["requires_payment_method", "requires_confirmation", "requires_action", "requires_capture"]);

export async function cancelIntentAndSettle(
  db: Db,
  purchaseId: string | null,
  paymentIntentId: string,
): Promise<{ paymentIntent: Stripe.PaymentIntent; result: SettleResult | null }> {
  let paymentIntent = await retrievePaymentIntent(paymentIntentId);
  if (CANCELLABLE.has(paymentIntent.status)) {
    try {
      paymentIntent = await cancelPaymentIntent(paymentIntent.id, purchaseId ?? paymentIntent.id);
    } catch (e) {
      // It moved on meanwhile (confirmed, processing): settle from what it is now.
      if (!(e instanceof Stripe.errors.StripeInvalidRequestError && e.code === "payment_intent_unexpected_state")) throw e;
      paymentIntent = await retrievePaymentIntent(paymentIntentId);
    }
  }
  const result = await db.transaction((tx) => settleFromPaymentIntent(tx, paymentIntent));
  return { paymentIntent, result };
}

/** Job stripe.cancel-payment-intent: throws (so pg-boss retries with backoff) until Stripe answers. */
export async function runCancelIntentJob(db: Db, data: JobData["stripe.cancel-payment-intent"]): Promise<string> {
  try {
    const { paymentIntent, result } = await cancelIntentAndSettle(db, data.purchaseId, data.paymentIntentId);
    return `intent ${paymentIntent.status}; purchase ${result?.purchase.status ?? "not ours"}`;
  } catch (e) {
    if (e instanceof Stripe.errors.StripeInvalidRequestError && e.code === "resource_missing") {
      log.warn({ paymentIntentId: data.paymentIntentId, purchaseId: data.purchaseId }, "cancel job: PaymentIntent does not exist at Stripe");
      return "intent missing";
    }
    throw e;
  }
}

export async function cancelTopUp(
  db: Db,
  p: { orgId: string; purchaseId: string; userId: string; role: OrgRole | null },
): Promise<{ status: string }> {
  const [purchase] = await db
    .select()
    .from(purchases)
    .where(and(eq(purchases.id, p.purchaseId), eq(purchases.orgId, p.orgId)));
  if (!purchase) throw new AppError("not_found", "Purchase not found.");
  assertMayActOnPurchase(purchase, p);
  if (purchase.status !== "pending" || !purchase.stripePaymentIntentId) return { status: purchase.status };
  const { result } = await cancelIntentAndSettle(db, purchase.id, purchase.stripePaymentIntentId);
  return { status: result?.purchase.status ?? purchase.status };
}
