// Cancelling checkouts: the person paying walks away, or an abandoned checkout's coupon hold is
// reclaimed. The intent is cancelled at Stripe first and the purchase then takes whatever final
// state Stripe reports — which may be "succeeded" if the payment won the race.
import { and, eq } from "drizzle-orm";
import type Stripe from "stripe";
import type { Db } from "@/db/client";
import { purchases } from "@/db/schema";
import { AppError } from "../errors";
import { cancelPaymentIntent, retrievePaymentIntent } from "../stripe/payment-intents";
import { settleFromPaymentIntent, type SettleResult } from "./settle";

const CANCELLABLE = new Set<Stripe.PaymentIntent.Status>(["requires_payment_method", "requires_confirmation", "requires_action", "requires_capture"]);

export async function cancelIntentAndSettle(
  db: Db,
  purchaseId: string,
  paymentIntentId: string,
): Promise<{ paymentIntent: Stripe.PaymentIntent; result: SettleResult | null }> {
  let paymentIntent = await retrievePaymentIntent(paymentIntentId);
  if (CANCELLABLE.has(paymentIntent.status)) paymentIntent = await cancelPaymentIntent(paymentIntent.id, purchaseId);
  const result = await db.transaction((tx) => settleFromPaymentIntent(tx, paymentIntent));
  return { paymentIntent, result };
}

export async function cancelTopUp(db: Db, p: { orgId: string; purchaseId: string }): Promise<{ status: string }> {
  const [purchase] = await db
    .select()
    .from(purchases)
    .where(and(eq(purchases.id, p.purchaseId), eq(purchases.orgId, p.orgId)));
  if (!purchase) throw new AppError("not_found", "Purchase not found.");
  if (purchase.status !== "pending" || !purchase.stripePaymentIntentId) return { status: purchase.status };
  const { result } = await cancelIntentAndSettle(db, purchase.id, purchase.stripePaymentIntentId);
  return { status: result?.purchase.status ?? purchase.status };
}
