// Finalisation of a top-up from its PaymentIntent: the one place a purchase becomes succeeded,
// failed, canceled or needs_review. It locks the purchase, asks the pure decision
// (lib/topups/decide.ts) what the intent means, and applies it in the caller's transaction —
// including enqueuing the Stripe follow-up (cancel a declined intent) as a job in that same
// transaction. Idempotent: the webhook, the settling page, the cancel job and the reclaim sweep
// may all call it; credits are granted once (ledger idempotency key purchase:<id>).
// Callers pass the intent as Stripe reports it NOW (re-fetched) when acting on a failure or a
// cancellation; a succeeded intent is final, so an event's copy of it is enough.
import { eq, sql, type SQL } from "drizzle-orm";
import { rowMapper } from "@/db/raw";
import type Stripe from "stripe";
import type { Tx } from "@/db/client";
import { purchases, type Purchase } from "@/db/schema";
import { grantCredits } from "../ledger/ledger";
import { lockCampaignsPausedForCredits, resumeCovered } from "../campaigns/service";
import { formatCredits } from "../money/money";
import { redeemForPurchase, releaseHold } from "../coupons/redemptions";
import { enqueue } from "../jobs/queue";
import { log } from "../log";
import { decideSettlement, type Decision } from "./decide";
import { autoRechargeFailed } from "../balance-care/recharge-failed";
import { afterTopUpSucceeded } from "../balance-care/card-setup";

export type SettleResult = { purchase: Purchase; changed: boolean; decision: Decision; resumedCampaignIds: string[] };

export type LockedPurchase = { purchase: Purchase; packName: string };

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Locks the purchase this PaymentIntent pays, in ONE statement, and brings its pack's name for
 * the ledger entry. The purchase linked to the intent wins; else the one named by our metadata
 * (the webhook can overtake the write of stripe_payment_intent_id), but only when it is not
 * linked to another intent. `onlyIf` is an extra SQL condition: the webhook passes "this
 * transaction claimed the event", so the statement can be sent in the claim's round trip and a
 * duplicate delivery locks nothing (lib/webhooks/process.ts).
 * A hosted checkout's intent names its purchase as checkout_purchase_id (lib/stripe/checkout.ts)
 * and is linked only when its session completes. Its success is final and is money in, so it finds
 * the unlinked purchase too — a checkout reclaimed as abandoned while Stripe's page stayed open is
 * still granted, whichever of payment_intent.succeeded and checkout.session.completed comes first.
 * Its other states name nothing: a card declined on Stripe's page leaves the session open for
 * another try, so the intent's failure must not close the purchase. (The one-call function,
 * db/migrations/0014, reads purchase_id only: it answers "slow" and this path settles it.)
 */
export async function lockPurchaseForIntent(tx: Tx, pi: Stripe.PaymentIntent, onlyIf?: SQL): Promise<LockedPurchase | undefined> {
  const metaId = pi.metadata?.purchase_id ?? (pi.status === "succeeded" ? pi.metadata?.checkout_purchase_id : undefined);
  const byMeta = metaId && UUID.test(metaId) ? metaId : null;
  // A template, not a builder (hot path: db/raw.ts); execute() writes it at once, so a caller
  // can pipeline it behind another statement.
  const [row] = await tx
    .execute<Record<string, unknown>>(sql`
    select p.*, k.name as pack_name
    from purchases p join credit_packs k on k.id = p.pack_id
    where (p.stripe_payment_intent_id = ${pi.id}
           or (p.id = ${byMeta}::uuid and (p.stripe_payment_intent_id is null or p.stripe_payment_intent_id = ${pi.id})))
      and ${onlyIf ?? sql`true`}
    order by (p.stripe_payment_intent_id is not distinct from ${pi.id}) desc
    limit 1
    for update of p`)
    .execute();
  return row ? { purchase: toPurchase(row), packName: String(row.pack_name) } : undefined;
}

const toPurchase = rowMapper(purchases);

/** Enqueues (in `tx`) the job that cancels this intent at Stripe and then settles from it. */
export function enqueueCancelIntent(tx: Tx, paymentIntentId: string, purchaseId: string | null, reason: string) {
  return enqueue(tx, "stripe.cancel-payment-intent", { paymentIntentId, purchaseId, reason }, { singletonKey: paymentIntentId });
}

/**
 * Applies whatever the PaymentIntent means now. Returns null for intents that are not ours.
 * `early` is the purchase already locked by lockPurchaseForIntent in this transaction (the
 * webhook sends that lock in the claim's round trip); when it found nothing, the lock is taken
 * here.
 */
export async function settleFromPaymentIntent(tx: Tx, pi: Stripe.PaymentIntent, early?: LockedPurchase): Promise<SettleResult | null> {
  const locked = early ?? (await lockPurchaseForIntent(tx, pi));
  if (!locked) return null;
  const { purchase } = locked;
  const decision = decideSettlement(purchase, pi);
  const unchanged = { purchase, changed: false, decision, resumedCampaignIds: [] };
  switch (decision.kind) {
    case "grant":
      return succeed(tx, purchase, pi, decision, locked.packName);
    case "review": {
      const [updated] = await tx
        .update(purchases)
        .set({ status: "needs_review", reviewReason: decision.reason, stripePaymentIntentId: pi.id, finalizedAt: sql`now()`, updatedAt: sql`now()` })
        .where(eq(purchases.id, purchase.id))
        .returning();
      log.error({ purchaseId: purchase.id, paymentIntentId: pi.id, reason: decision.reason }, "payment does not match its purchase: needs review, nothing granted");
      return { ...unchanged, purchase: updated!, changed: true };
    }
    case "decline": {
      // Failed now (the person paying sees why), but the hold stays: the intent can still be
      // confirmed until Stripe has cancelled it, which the job does, retrying until it can.
      const [updated] = await tx
        .update(purchases)
        .set({ status: "failed", failureCode: decision.code, failureMessage: decision.message, finalizedAt: sql`now()`, updatedAt: sql`now()` })
        .where(eq(purchases.id, purchase.id))
        .returning();
      await enqueueCancelIntent(tx, pi.id, purchase.id, "declined");
      if (purchase.source === "auto_recharge") await autoRechargeFailed(tx, purchase, decision);
      return { ...unchanged, purchase: updated!, changed: true };
    }
    case "retry_cancel":
      await enqueueCancelIntent(tx, pi.id, purchase.id, "declined");
      return unchanged;
    case "canceled": {
      let updated: Purchase | undefined;
      if (decision.closePurchase) {
        [updated] = await tx
          .update(purchases)
          .set({ status: "canceled", failureCode: decision.code, failureMessage: "The payment was cancelled.", finalizedAt: sql`now()`, updatedAt: sql`now()` })
          .where(eq(purchases.id, purchase.id))
          .returning();
      }
      const released = await releaseHold(tx, purchase.id);
      return { ...unchanged, purchase: updated ?? purchase, changed: Boolean(updated) || released };
    }
    case "wait":
    case "nothing":
      return unchanged;
  }
}

async function succeed(tx: Tx, purchase: Purchase, pi: Stripe.PaymentIntent, decision: Decision, packName: string): Promise<SettleResult> {
  // Money in means credits in, even for a purchase we had already marked failed or canceled
  // (a late success after a decline): the customer has paid.
  // The purchase update, the ledger statement — which takes the organisation's row lock, so that
  // lock is held for this round trip and the commit only — and the lock of the campaigns it may
  // resume are sent back to back, in one round trip (postgres.js pipelines them on the
  // transaction's connection; each is written at once, in this order). A purchase with a coupon
  // first settles its redemption, whole, before the organisation is locked (it may take the
  // coupon's lock, and no transaction may wait for a coupon while holding an organisation).
  // An admin asked to save this payment's card (setup_future_usage, lib/balance-care/card-setup.ts):
  // its job is enqueued first, before anything is locked; other payments skip this round trip.
  if (pi.setup_future_usage) await afterTopUpSucceeded(tx, purchase);
  const purchaseUpdated = tx
    .execute<Record<string, unknown>>(sql`
    update purchases
    set status = 'succeeded', stripe_payment_intent_id = ${pi.id}, failure_code = null, failure_message = null,
        finalized_at = now(), updated_at = now()
    where id = ${purchase.id}::uuid
    returning *`)
    .execute();
  if (purchase.couponId) {
    void purchaseUpdated.catch(() => {}); // awaited below; a failure must not go unhandled meanwhile
    await redeemForPurchase(tx, purchase.id);
  }
  const granted = grantCredits(tx, {
    orgId: purchase.orgId,
    amount: purchase.credits,
    kind: "purchase",
    idempotencyKey: `purchase:${purchase.id}`,
    description: `Top-up: ${packName} (${formatCredits(purchase.credits)} credits)`,
    purchaseId: purchase.id,
    actorUserId: purchase.userId,
  });
  const pausedLocked = lockCampaignsPausedForCredits(tx, purchase.orgId);
  const [[updatedRow], { entry }, paused] = await Promise.all([purchaseUpdated, granted, pausedLocked]);
  const resumedCampaignIds = await resumeCovered(tx, paused, entry.balanceAfter);
  return { purchase: toPurchase(updatedRow!), changed: true, decision, resumedCampaignIds };
}

/**
 * Closes a pending purchase that has NO linked PaymentIntent (guarded: pending and unlinked), and
 * releases its hold. After this no intent of ours can be linked to it (linking requires pending),
 * so no client secret for it can be handed out. A hosted checkout's page, though, stays payable
 * until its session expires: a payment made there is still granted (lockPurchaseForIntent finds the
 * purchase by checkout_purchase_id; the success redeems the released hold again, flagged if a
 * limit was reached meanwhile — lib/coupons/redemptions.ts).
 */
export async function closeUnlinkedPurchase(tx: Tx, purchaseId: string, failure: { code: string; message: string }): Promise<Purchase | undefined> {
  const [updated] = await tx
    .update(purchases)
    .set({ status: "canceled", failureCode: failure.code, failureMessage: failure.message, finalizedAt: sql`now()`, updatedAt: sql`now()` })
    .where(sql`${purchases.id} = ${purchaseId} AND ${purchases.status} = 'pending' AND ${purchases.stripePaymentIntentId} IS NULL`)
    .returning();
  if (updated) await releaseHold(tx, purchaseId);
  return updated;
}
