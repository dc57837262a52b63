// Test-card form (no publishable key): confirms the purchase's PaymentIntent on the server with
// one of Stripe's test payment methods. A decline is final for this purchase: it is marked
// failed with the reason and a job (enqueued in the same transaction) cancels its intent at
// Stripe, retrying until it can; the coupon hold is released only once that cancel succeeded.
// The next attempt is a new purchase. Only the purchase's creator or an org admin may confirm.
import { and, eq } from "drizzle-orm";
import type { Db } from "@/db/client";
import { purchases } from "@/db/schema";
import { AppError } from "../errors";
import type { OrgRole } from "../auth/roles";
import {
  completeTestAuthentication,
  confirmWithTestPaymentMethod,
  retrievePaymentIntent,
} from "../stripe/payment-intents";
import type { TestPaymentMethod } from "../stripe/test-cards";
import { settleFromPaymentIntent } from "./settle";
import { assertMayActOnPurchase } from "./ownership";

type Actor = { orgId: string; userId: string; role: OrgRole | null };

export type ConfirmResult =
  | { outcome: "processing" }
  | { outcome: "requires_action" }
  | { outcome: "declined"; message: string };

async function pendingPurchase(db: Db, actor: Actor, purchaseId: string) {
  const [purchase] = await db
    .select()
    .from(purchases)
    .where(and(eq(purchases.id, purchaseId), eq(purchases.orgId, actor.orgId)));
  if (!purchase) throw new AppError("not_found", "Purchase not found.");
  assertMayActOnPurchase(purchase, actor);
  if (purchase.status !== "pending" || !purchase.stripePaymentIntentId) {
    throw new AppError("conflict", "This checkout has already finished. Start a new top-up to pay again.");
  }
  return { ...purchase, stripePaymentIntentId: purchase.stripePaymentIntentId };
}

export async function confirmWithTestCard(
  db: Db,
  p: Actor & { purchaseId: string; paymentMethod: TestPaymentMethod },
): Promise<ConfirmResult> {
  const purchase = await pendingPurchase(db, p, p.purchaseId);
  const outcome = await confirmWithTestPaymentMethod(purchase.stripePaymentIntentId, purchase.id, p.paymentMethod);
  if (outcome.kind === "declined") {
    const pi = outcome.paymentIntent ?? (await retrievePaymentIntent(purchase.stripePaymentIntentId));
    await db.transaction((tx) => settleFromPaymentIntent(tx, pi));
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
  p: Actor & { purchaseId: string; outcome: "succeed" | "fail" },
): Promise<ConfirmResult> {
  const purchase = await pendingPurchase(db, p, p.purchaseId);
  await completeTestAuthentication(purchase.stripePaymentIntentId, p.outcome);
  const pi = await retrievePaymentIntent(purchase.stripePaymentIntentId);
  await db.transaction((tx) => settleFromPaymentIntent(tx, pi));
  if (pi.status === "requires_payment_method") {
    return { outcome: "declined", message: pi.last_payment_error?.message ?? "Authentication failed." };
  }
  return { outcome: "processing" };
}
