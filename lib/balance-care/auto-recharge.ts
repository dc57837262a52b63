// The auto-recharge job (queue "balance.auto-recharge", enqueued by the debit that crossed the
// threshold, lib/balance-care/after-debit.ts). Exactly one purchase per crossing: its request id
// is derived from the crossing's ledger entry, so a retried or duplicated job finds the same
// purchase, and its off-session PaymentIntent carries the idempotency key purchase:<id>, so a
// retry after a crash or a Stripe outage gets the same PaymentIntent back. Before creating the
// purchase the job re-reads everything: auto-recharge still on, balance still below the threshold,
// no other auto-recharge purchase pending; a retry that finds its purchase without a PaymentIntent
// checks the first two again before calling Stripe, and closes the purchase if they no longer
// hold. Credits arrive through settlement (here for an immediate success, and the webhook either
// way; settlement is idempotent). A decline fails the purchase and settlement turns
// auto-recharge off (lib/balance-care/recharge-failed.ts); so does the job itself when Stripe
// refuses the request (400/404, no PaymentIntent made). A purchase left without a PaymentIntent
// past its job's retry window (a longer outage) is abandoned: the next crossing closes it instead
// of counting it as in flight.
import { createHash } from "node:crypto";
import { and, eq, isNull, sql } from "drizzle-orm";
import Stripe from "stripe";
import type { Db } from "@/db/client";
import { balanceSettings, creditPacks, organizations, purchases, type Purchase } from "@/db/schema";
import { ensureStripeCustomer } from "../stripe/customers";
import { createOffSessionPaymentIntent } from "../stripe/saved-cards";
import { retrievePaymentIntent } from "../stripe/payment-intents";
import { formatCredits } from "../money/money";
import { log } from "../log";
import { linkPaymentIntent } from "../topups/start";
import { closeUnlinkedPurchase, settleFromPaymentIntent } from "../topups/settle";
import { autoRechargeFailed } from "./recharge-failed";
import { retryWindowSeconds } from "../jobs/queue";

/**
 * A pending auto-recharge purchase with no PaymentIntent older than this is abandoned: the job
 * that made it has failed for good (it can no longer pay it), so it no longer counts as in flight.
 * The job's whole retry window, from the queue's options (lib/jobs/queue.ts). Should the job run
 * later after all (workers down for longer), it finds the purchase closed and pays nothing.
 */
const ABANDONED_AFTER_SECONDS = retryWindowSeconds("balance.auto-recharge");

export type AutoRechargeResult =
  | { outcome: "skipped"; reason: "disabled" | "balance_recovered" | "in_flight" | "no_pack" }
  | { outcome: "paid" | "processing" | "declined" | "failed" | "already_final"; purchaseId: string; status: string };

/** A UUID from the crossing, used as the purchase's request id (one purchase per crossing). */
export function crossingRequestId(crossingEntryId: number): string {
  const h = createHash("sha256").update(`auto-recharge\u0000${crossingEntryId}`).digest();
  h[6] = (h[6]! & 0x0f) | 0x80;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString("hex");
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

export async function runAutoRechargeJob(db: Db, data: { orgId: string; crossingEntryId: number }): Promise<AutoRechargeResult> {
  const requestId = crossingRequestId(data.crossingEntryId);
  let [purchase] = await db.select().from(purchases).where(eq(purchases.requestId, requestId));
  if (!purchase) {
    const created = await createPurchaseForCrossing(db, data.orgId, requestId);
    if ("skipped" in created) {
      log.info({ event: "auto_recharge_skipped", orgId: data.orgId, reason: created.skipped, crossingEntryId: data.crossingEntryId }, "auto-recharge skipped");
      return { outcome: "skipped", reason: created.skipped };
    }
    purchase = created.purchase;
  } else if (purchase.status === "pending" && !purchase.stripePaymentIntentId) {
    // A retry (or a duplicate) of a job whose earlier attempt made the purchase but has no
    // PaymentIntent for it: what held then may not hold now (minutes or hours of backoff later).
    const checked = await recheckBeforePaying(db, purchase);
    if ("skipped" in checked) {
      log.info({ event: "auto_recharge_skipped", orgId: data.orgId, reason: checked.skipped, purchaseId: purchase.id, crossingEntryId: data.crossingEntryId }, "auto-recharge skipped on retry; purchase closed");
      return { outcome: "skipped", reason: checked.skipped };
    }
    purchase = checked.purchase;
  }
  if (purchase.status !== "pending") return { outcome: "already_final", purchaseId: purchase.id, status: purchase.status };
  return payPurchase(db, purchase);
}

/**
 * The checks createPurchaseForCrossing made, made again before a retry calls Stripe: auto-recharge
 * still on and the balance still below the threshold, under the settings lock (an admin turning
 * it off, or a top-up, is decided before or after this, never during). If not, the purchase is
 * closed (canceled) and Stripe is not called. The purchase is locked first, as settlement does
 * (purchase, then settings: a decline turns auto-recharge off in settlement's transaction).
 *
 * If an earlier attempt did reach Stripe (its answer lost to a connection error), the
 * PaymentIntent exists there with the key purchase:<id>, already confirmed off-session, and
 * metadata purchase_id. Closing the purchase does not strand that money: settlement finds the
 * purchase by that metadata (it is unlinked), and a succeeded intent is granted on a canceled
 * purchase (lib/topups/decide.ts "late success"; the batch path accepts pending, failed and
 * canceled too), so the webhook (or the nightly reconcile) credits it. Nothing is charged twice:
 * a closed purchase is never paid again (every later run of this job returns already_final), and
 * a declined intent on a closed purchase changes nothing. If the webhook came first, the purchase
 * is found linked or settled here and the job goes on with that intent (retrieve, no new charge).
 */
async function recheckBeforePaying(
  db: Db,
  purchase: Purchase,
): Promise<{ purchase: Purchase } | { skipped: "disabled" | "balance_recovered" }> {
  return db.transaction(async (tx) => {
    const [current] = await tx.select().from(purchases).where(eq(purchases.id, purchase.id)).for("update");
    if (!current || current.status !== "pending" || current.stripePaymentIntentId) return { purchase: current ?? purchase };
    const [s] = await tx.select().from(balanceSettings).where(eq(balanceSettings.orgId, purchase.orgId)).for("update");
    const [org] = await tx.select({ balance: organizations.balance }).from(organizations).where(eq(organizations.id, purchase.orgId));
    let skipped: "disabled" | "balance_recovered" | null = null;
    if (!s?.autoRechargeEnabled || !s.autoRechargeThreshold) skipped = "disabled";
    else if (!org || org.balance >= s.autoRechargeThreshold) skipped = "balance_recovered";
    if (!skipped) return { purchase: current };
    await closeUnlinkedPurchase(
      tx,
      purchase.id,
      skipped === "disabled"
        ? { code: "auto_recharge_disabled", message: "Auto-recharge was turned off before the payment was made." }
        : { code: "balance_recovered", message: "The balance was back above the threshold before the payment was made." },
    );
    return { skipped };
  });
}

async function createPurchaseForCrossing(
  db: Db,
  orgId: string,
  requestId: string,
): Promise<{ purchase: Purchase } | { skipped: "disabled" | "balance_recovered" | "in_flight" | "no_pack" }> {
  return db.transaction(async (tx) => {
    // Locks the settings row: two jobs for one organisation decide one after the other.
    const [s] = await tx.select().from(balanceSettings).where(eq(balanceSettings.orgId, orgId)).for("update");
    if (!s?.autoRechargeEnabled || !s.autoRechargeThreshold || !s.autoRechargePackId || !s.cardSavedByUserId) return { skipped: "disabled" as const };
    const [org] = await tx.select({ balance: organizations.balance }).from(organizations).where(eq(organizations.id, orgId));
    if (!org || org.balance >= s.autoRechargeThreshold) return { skipped: "balance_recovered" as const };
    const pending = await tx
      .select({ id: purchases.id, abandoned: sql<boolean>`${purchases.stripePaymentIntentId} IS NULL AND ${purchases.createdAt} < now() - ${ABANDONED_AFTER_SECONDS} * interval '1 second'` })
      .from(purchases)
      .where(and(eq(purchases.orgId, orgId), eq(purchases.source, "auto_recharge"), eq(purchases.status, "pending")));
    if (pending.some((p) => !p.abandoned)) return { skipped: "in_flight" as const };
    for (const p of pending) {
      // Abandoned: its job can no longer run, and nothing linked a PaymentIntent to it. Closed so
      // it does not block this crossing (nor any later one). SKIP LOCKED: a purchase locked now is
      // being settled (a late webhook takes the purchase before the settings), so it is in flight.
      const [locked] = await tx.select({ id: purchases.id }).from(purchases).where(eq(purchases.id, p.id)).for("update", { skipLocked: true });
      const closed = locked && (await closeUnlinkedPurchase(tx, p.id, { code: "abandoned", message: "The payment was never made: its job ran out of retries." }));
      if (!closed) return { skipped: "in_flight" as const };
      log.warn({ event: "auto_recharge_abandoned", orgId, purchaseId: p.id }, "auto-recharge purchase without a PaymentIntent past its job's retry window; closed");
    }
    const [pack] = await tx.select().from(creditPacks).where(and(eq(creditPacks.id, s.autoRechargePackId), eq(creditPacks.active, true)));
    if (!pack) {
      await autoRechargeFailed(tx, { id: `pack:${s.autoRechargePackId}:${requestId}`, orgId }, {
        code: "pack_unavailable",
        message: "The chosen credit pack is no longer available",
        declined: false,
        remedy: "chooses a pack on sale",
      });
      return { skipped: "no_pack" as const };
    }
    const [row] = await tx
      .insert(purchases)
      .values({
        orgId,
        userId: s.cardSavedByUserId,
        packId: pack.id,
        requestId,
        credits: pack.credits,
        subtotal: pack.amount,
        amount: pack.amount,
        currency: pack.currency,
        source: "auto_recharge",
      })
      .onConflictDoNothing({ target: purchases.requestId })
      .returning();
    if (row) return { purchase: row };
    const [existing] = await tx.select().from(purchases).where(eq(purchases.requestId, requestId));
    return { purchase: existing! };
  });
}

async function payPurchase(db: Db, purchase: Purchase): Promise<AutoRechargeResult> {
  const [s] = await db.select().from(balanceSettings).where(eq(balanceSettings.orgId, purchase.orgId));
  const [org] = await db.select().from(organizations).where(eq(organizations.id, purchase.orgId));
  let pi;
  if (purchase.stripePaymentIntentId) {
    pi = await retrievePaymentIntent(purchase.stripePaymentIntentId);
  } else {
    if (!s?.paymentMethodId) {
      // The card was removed before the payment started: nothing can be charged; close it.
      await db.transaction(async (tx) => {
        await tx.update(purchases).set({ status: "canceled", failureCode: "no_saved_card", failureMessage: "No saved card.", finalizedAt: new Date(), updatedAt: new Date() })
          .where(and(eq(purchases.id, purchase.id), eq(purchases.status, "pending")));
      });
      return { outcome: "already_final", purchaseId: purchase.id, status: "canceled" };
    }
    const customerId = await ensureStripeCustomer(db, org!);
    let outcome;
    try {
      outcome = await createOffSessionPaymentIntent({
        purchaseId: purchase.id,
        orgId: purchase.orgId,
        customerId,
        paymentMethodId: s.paymentMethodId,
        amount: purchase.amount,
        currency: purchase.currency,
        description: `Creditloop auto-recharge: ${formatCredits(purchase.credits)} credits for ${org!.name}`,
      });
    } catch (e) {
      // Stripe refused the request itself (400/404: the saved PaymentMethod or the customer is
      // gone, …): the same request fails the same way on every retry, so the purchase is failed
      // now, as a decline is. No PaymentIntent was made for it (a request Stripe had run would be
      // replayed under purchase:<id>, not refused). Anything else — connection errors, 5xx, 409,
      // rate limits, an idempotency_error after the card was replaced while a first attempt's
      // answer was lost (its webhook settles the purchase) — is thrown and retried.
      if (!(e instanceof Stripe.errors.StripeInvalidRequestError)) throw e;
      return failUnpaid(db, purchase, { code: e.code ?? "invalid_request", message: e.message, declined: false });
    }
    // A decline Stripe answered without a PaymentIntent is replayed as such under the same key:
    // retrying would only fail again.
    if (outcome.kind === "declined" && !outcome.paymentIntent) return failUnpaid(db, purchase, { code: outcome.code, message: outcome.message });
    pi = outcome.paymentIntent!;
    await linkPaymentIntent(db, purchase.id, pi.id);
  }
  const settled = await db.transaction((tx) => settleFromPaymentIntent(tx, pi));
  const status = settled?.purchase.status ?? "pending";
  log.info({ event: "auto_recharge_payment", orgId: purchase.orgId, purchaseId: purchase.id, paymentIntentId: pi.id, status: pi.status }, "auto-recharge payment made");
  return {
    outcome: status === "succeeded" ? "paid" : status === "failed" ? "declined" : "processing",
    purchaseId: purchase.id,
    status,
  };
}

/**
 * The purchase cannot be paid and no PaymentIntent exists for it: failed, and the same path as a
 * decline (auto-recharge off, the admins told why), in one transaction. Guarded like
 * closeUnlinkedPurchase (pending and unlinked), so a purchase settled meanwhile is left alone.
 */
async function failUnpaid(db: Db, purchase: Purchase, failure: { code: string; message: string; declined?: boolean }): Promise<AutoRechargeResult> {
  return db.transaction(async (tx) => {
    const [failed] = await tx
      .update(purchases)
      .set({ status: "failed", failureCode: failure.code, failureMessage: failure.message, finalizedAt: sql`now()`, updatedAt: sql`now()` })
      .where(and(eq(purchases.id, purchase.id), eq(purchases.status, "pending"), isNull(purchases.stripePaymentIntentId)))
      .returning();
    if (!failed) {
      const [current] = await tx.select().from(purchases).where(eq(purchases.id, purchase.id));
      return { outcome: "already_final", purchaseId: purchase.id, status: current?.status ?? "pending" };
    }
    await autoRechargeFailed(tx, failed, failure);
    return { outcome: failure.declined === false ? "failed" : "declined", purchaseId: purchase.id, status: "failed" };
  });
}
