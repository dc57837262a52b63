// Test-card form (no publishable key): confirms the purchase's PaymentIntent on the server with
// one of Stripe's test payment methods. A decline is final for this purchase: it is marked
// failed with the reason, its coupon hold released, and its intent cancelled so it can never
// succeed later; the next attempt is a new purchase.
import { and, eq } from "drizzle-orm";
import type { Db } from "@/db/client";
import { purchases } from "@/db/schema";
import { AppError } from "../errors";
import {
  cancelPaymentIntent,
  completeTestAuthentication,
  confirmWithTestPaymentMethod,
  retrievePaymentIntent,
} from "../stripe/payment-intents";
import type { TestPaymentMethod } from "../stripe/test-cards";
import { settleFromPaymentIntent } from "./settle";

export type ConfirmResult =
  | { outcome: "processing" }
  | { outcome: "requires_action" }
  | { outcome: "declined"; message: string };

async function pendingPurchase(db: Db, orgId: string, purchaseId: string) {
  const [purchase] = await db
    .select()
    .from(purchases)
    .where(and(eq(purchases.id, purchaseId), eq(purchases.orgId, orgId)));
  if (!purchase) throw new AppError("not_found", "Purchase not found.");
  if (purchase.status !== "pending" || !purchase.stripePaymentIntentId) {
    throw new AppError("conflict", "This checkout has already finished. Start a new top-up to pay again.");
  }
  return { ...purchase, stripePaymentIntentId: purchase.stripePaymentIntentId };
}

export async function confirmWithTestCard(
  db: Db,
  p: { orgId: string; purchaseId: string; paymentMethod: TestPaymentMethod },
): Promise<ConfirmResult> {
  const purchase = await pendingPurchase(db, p.orgId, p.purchaseId);
  const outcome = await confirmWithTestPaymentMethod(purchase.stripePaymentIntentId, purchase.id, p.paymentMethod);
  if (outcome.kind === "declined") {
    const pi = outcome.paymentIntent ?? (await retrievePaymentIntent(purchase.stripePaymentIntentId));
    await db.transaction((tx) => settleFromPaymentIntent(tx, pi));
    await cancelQuietly(purchase.stripePaymentIntentId, purchase.id);
    return { outcome: "declined", message: outcome.message };
  }
  if (outcome.paymentIntent.status === "requires_action") return { outcome: "requires_action" };
  // Success is finalised by the webhook or by the settling page verifying the intent, whichever
  // comes first; the person paying watches it settle there.
  return { outcome: "processing" };
}

/** Local mode's stand-in for the 3-D Secure challenge. */
export async function authenticateTestPayment(
  db: Db,
  p: { orgId: string; purchaseId: string; outcome: "succeed" | "fail" },
): Promise<ConfirmResult> {
  const purchase = await pendingPurchase(db, p.orgId, p.purchaseId);
  await completeTestAuthentication(purchase.stripePaymentIntentId, p.outcome);
  const pi = await retrievePaymentIntent(purchase.stripePaymentIntentId);
  await db.transaction((tx) => settleFromPaymentIntent(tx, pi));
  if (pi.status === "requires_payment_method") {
    await cancelQuietly(pi.id, purchase.id);
    return { outcome: "declined", message: pi.last_payment_error?.message ?? "Authentication failed." };
  }
  return { outcome: "processing" };
}

async function cancelQuietly(paymentIntentId: string, purchaseId: string) {
  try {
    await cancelPaymentIntent(paymentIntentId, purchaseId);
  } catch (e) {
    console.warn("[topups] could not cancel declined PaymentIntent", { paymentIntentId, error: String(e) });
  }
}
