// Finalisation of a top-up from its PaymentIntent: the one place a purchase becomes succeeded,
// failed or canceled. Idempotent in its own right (the purchase row is locked and only a pending
// or failed purchase moves), so the webhook and the settling page can both call it and credits
// are still granted once.
import { and, eq, inArray, sql } from "drizzle-orm";
import type Stripe from "stripe";
import type { Tx } from "@/db/client";
import { couponRedemptions, creditPacks, purchases, type Purchase } from "@/db/schema";
import { grantCredits } from "../ledger/ledger";
import { resumeCampaignsCoveredBy } from "../campaigns/service";
import { formatCredits } from "../money/money";

export type SettleResult = { purchase: Purchase; changed: boolean; resumedCampaignIds: string[] };

async function lockPurchase(tx: Tx, pi: Stripe.PaymentIntent): Promise<Purchase | undefined> {
  const [byIntent] = await tx.select().from(purchases).where(eq(purchases.stripePaymentIntentId, pi.id)).for("update");
  if (byIntent) return byIntent;
  // The webhook can overtake the write of stripe_payment_intent_id; fall back to our metadata,
  // but only when the purchase is not linked to another intent.
  const purchaseId = pi.metadata?.purchase_id;
  if (!purchaseId || !/^[0-9a-f-]{36}$/i.test(purchaseId)) return undefined;
  const [byMeta] = await tx.select().from(purchases).where(eq(purchases.id, purchaseId)).for("update");
  if (!byMeta || (byMeta.stripePaymentIntentId && byMeta.stripePaymentIntentId !== pi.id)) return undefined;
  return byMeta;
}

/** Applies whatever final state the PaymentIntent is in. Returns null for intents that are not ours. */
export async function settleFromPaymentIntent(tx: Tx, pi: Stripe.PaymentIntent): Promise<SettleResult | null> {
  const purchase = await lockPurchase(tx, pi);
  if (!purchase) return null;
  switch (pi.status) {
    case "succeeded":
      return succeed(tx, purchase, pi);
    case "canceled":
      return close(tx, purchase, "canceled", { code: pi.cancellation_reason ?? "canceled", message: "The payment was cancelled." });
    case "requires_payment_method": {
      const err = pi.last_payment_error;
      if (!err) return { purchase, changed: false, resumedCampaignIds: [] };
      return close(tx, purchase, "failed", {
        code: err.decline_code ?? err.code ?? "payment_failed",
        message: err.message ?? "The payment failed.",
      });
    }
    default:
      return { purchase, changed: false, resumedCampaignIds: [] };
  }
}

async function succeed(tx: Tx, purchase: Purchase, pi: Stripe.PaymentIntent): Promise<SettleResult> {
  if (purchase.status === "succeeded") return { purchase, changed: false, resumedCampaignIds: [] };
  if (pi.amount_received !== purchase.amount || pi.currency !== purchase.currency) {
    throw new Error(
      `PaymentIntent ${pi.id} received ${pi.amount_received} ${pi.currency}, purchase ${purchase.id} expects ${purchase.amount} ${purchase.currency}`,
    );
  }
  // Money in means credits in, even for a purchase we had already marked failed or canceled
  // (a late success after a decline): the customer has paid.
  const [updated] = await tx
    .update(purchases)
    .set({
      status: "succeeded",
      stripePaymentIntentId: pi.id,
      failureCode: null,
      failureMessage: null,
      finalizedAt: sql`now()`,
      updatedAt: sql`now()`,
    })
    .where(eq(purchases.id, purchase.id))
    .returning();
  await tx
    .update(couponRedemptions)
    .set({ status: "redeemed", updatedAt: sql`now()` })
    .where(eq(couponRedemptions.purchaseId, purchase.id));
  const [pack] = await tx.select({ name: creditPacks.name }).from(creditPacks).where(eq(creditPacks.id, purchase.packId));
  const { entry } = await grantCredits(tx, {
    orgId: purchase.orgId,
    amount: purchase.credits,
    kind: "purchase",
    idempotencyKey: `purchase:${purchase.id}`,
    description: `Top-up: ${pack?.name ?? "credit pack"} (${formatCredits(purchase.credits)} credits)`,
    purchaseId: purchase.id,
    actorUserId: purchase.userId,
  });
  const resumedCampaignIds = await resumeCampaignsCoveredBy(tx, purchase.orgId, entry.balanceAfter);
  return { purchase: updated!, changed: true, resumedCampaignIds };
}

async function close(
  tx: Tx,
  purchase: Purchase,
  status: "failed" | "canceled",
  failure: { code: string; message: string },
): Promise<SettleResult> {
  const updated = await closePendingPurchase(tx, purchase.id, status, failure);
  return { purchase: updated ?? purchase, changed: Boolean(updated), resumedCampaignIds: [] };
}

/**
 * Moves a pending purchase to failed or canceled and releases its coupon hold. Does nothing to
 * a purchase that is already final. Also used for checkouts that never got a PaymentIntent.
 */
export async function closePendingPurchase(
  tx: Tx,
  purchaseId: string,
  status: "failed" | "canceled",
  failure: { code: string; message: string },
): Promise<Purchase | undefined> {
  const [updated] = await tx
    .update(purchases)
    .set({ status, failureCode: failure.code, failureMessage: failure.message, finalizedAt: sql`now()`, updatedAt: sql`now()` })
    .where(and(eq(purchases.id, purchaseId), eq(purchases.status, "pending")))
    .returning();
  if (updated) await releaseHold(tx, purchaseId);
  return updated;
}

export async function releaseHold(tx: Tx, purchaseId: string): Promise<void> {
  await tx
    .update(couponRedemptions)
    .set({ status: "released", updatedAt: sql`now()` })
    .where(and(eq(couponRedemptions.purchaseId, purchaseId), inArray(couponRedemptions.status, ["held"])));
}
