// Saving a card for auto-recharge: one card_setups row per attempt, then a SetupIntent for it,
// confirmed in the browser (Stripe Elements) or on the server with a test card; its result is
// applied by applySetupIntent, called both by the page's own verification and by the
// setup_intent.* webhooks, in whatever order they come, as often as they come. An admin may also
// save the card of a top-up (setup_future_usage: "off_session"): its attempt row is made before
// the PaymentIntent, and when the purchase succeeds settlement enqueues the
// balance.save-card-from-payment job, which applies the payment's card by the same rules.
//
// Invariants:
//   - one attempt per request id (a double submit reuses the row and, through the idempotency key
//     setup:<request id>, the SetupIntent);
//   - a SetupIntent is applied only to the organisation whose attempt it is (found by our own
//     link, or by metadata checked against the organisation's Stripe customer);
//   - the saved card only moves forward: an attempt replaces the card only when it is newer (a
//     larger card_setups.id) than the attempt that saved the current one; an older attempt that
//     succeeds late is "superseded" and its card is detached;
//   - a replaced or superseded card is detached at Stripe by the job stripe.detach-payment-method,
//     enqueued in the transaction that replaced it (retried; the job re-reads and never detaches
//     the card in use);
//   - a failure records the reason on the attempt and one card_setup_failed notification for the
//     admins; it enables nothing (auto-recharge stays as it was, on its current card).
// Locks: the attempt's row, then the organisation's balance_settings row, in both callers, so the
// page and the webhook for one SetupIntent apply it one after the other and the second finds it
// done; two attempts succeeding at once are ordered under the settings row lock.
import { createHash } from "node:crypto";
import { and, eq, isNull, sql } from "drizzle-orm";
import type Stripe from "stripe";
import type { Db, Tx } from "@/db/client";
import { balanceSettings, cardSetups, notifications, purchases, stripeCustomers, type BalanceSettings, type CardSetup, type Organization, type Purchase } from "@/db/schema";
import { AppError } from "../errors";
import { log } from "../log";
import { recordAudit } from "../audit/audit";
import { enqueue } from "../jobs/queue";
import { ensureStripeCustomer } from "../stripe/customers";
import { createSetupIntent, detachPaymentMethod, retrieveSetupIntent, savedCardOf, type SavedCard } from "../stripe/saved-cards";
import { retrievePaymentIntent } from "../stripe/payment-intents";
import { setupIntentVerdict, type SetupVerdict } from "./setup-rules";

export type StartedCardSetup = { cardSetupId: number; setupIntentId: string; clientSecret: string };

/** Starts (or, for the same request id, finds) an attempt and its SetupIntent. */
export async function startCardSetup(db: Db, p: { org: Pick<Organization, "id" | "name" | "slug">; userId: string; requestId: string }): Promise<StartedCardSetup> {
  await db.insert(cardSetups).values({ orgId: p.org.id, userId: p.userId, requestId: p.requestId }).onConflictDoNothing({ target: cardSetups.requestId });
  const [row] = await db.select().from(cardSetups).where(eq(cardSetups.requestId, p.requestId));
  if (!row || row.orgId !== p.org.id || row.userId !== p.userId) throw new AppError("conflict", "This request was already used. Reload the page and try again.");
  if (row.status !== "started" && row.status !== "failed") throw new AppError("conflict", "This card form was already used. Reload the page to save another card.");
  const customerId = await ensureStripeCustomer(db, p.org);
  // Same key, same parameters: a retry after a lost answer gets the same SetupIntent back.
  const si = await createSetupIntent({ customerId, orgId: p.org.id, cardSetupId: row.id, requestId: p.requestId });
  await db.update(cardSetups).set({ stripeSetupIntentId: si.id, updatedAt: sql`now()` }).where(and(eq(cardSetups.id, row.id), isNull(cardSetups.stripeSetupIntentId)));
  log.info({ event: "card_setup_started", orgId: p.org.id, cardSetupId: row.id, setupIntentId: si.id }, "card setup started");
  return { cardSetupId: row.id, setupIntentId: si.id, clientSecret: si.client_secret! };
}

export type CardSetupResult =
  | { status: "saved" | "superseded"; card: SavedCard }
  | { status: "failed"; message: string }
  | { status: "pending" | "requires_action" | "canceled" }
  | { status: "not_ours" };

const idOf = (x: string | { id: string } | null | undefined) => (typeof x === "string" ? x : (x?.id ?? null));

/** The attempt a SetupIntent belongs to, locked; null when it is not one of ours. */
async function lockAttempt(tx: Tx, si: Stripe.SetupIntent): Promise<CardSetup | null> {
  const [linked] = await tx.select().from(cardSetups).where(eq(cardSetups.stripeSetupIntentId, si.id)).for("update");
  if (linked) return linked.orgId === si.metadata?.org_id || !si.metadata?.org_id ? linked : null;
  // Not linked yet (the create's answer was lost, or the webhook overtook the link): metadata
  // names the attempt; it must be of that organisation, unlinked, and the SetupIntent's customer
  // must be the organisation's.
  const attemptId = Number(si.metadata?.card_setup_id);
  if (!Number.isSafeInteger(attemptId) || attemptId <= 0) return null;
  const [row] = await tx.select().from(cardSetups).where(eq(cardSetups.id, attemptId)).for("update");
  if (!row || row.orgId !== si.metadata?.org_id || (row.stripeSetupIntentId && row.stripeSetupIntentId !== si.id)) return null;
  const [customer] = await tx.select().from(stripeCustomers).where(eq(stripeCustomers.orgId, row.orgId));
  if (!customer || customer.stripeCustomerId !== idOf(si.customer)) return null;
  await tx.update(cardSetups).set({ stripeSetupIntentId: si.id, updatedAt: sql`now()` }).where(eq(cardSetups.id, row.id));
  return { ...row, stripeSetupIntentId: si.id };
}

async function lockSettings(tx: Tx, orgId: string): Promise<BalanceSettings> {
  await tx.insert(balanceSettings).values({ orgId }).onConflictDoNothing();
  const [s] = await tx.select().from(balanceSettings).where(eq(balanceSettings.orgId, orgId)).for("update");
  return s!;
}

/**
 * Applies a SetupIntent as Stripe reports it now (the callers re-read it) to its attempt.
 * `card` is the saved PaymentMethod's details when it succeeded. Idempotent.
 */
export async function applySetupIntent(tx: Tx, si: Stripe.SetupIntent, card: SavedCard | null, via: "page" | "webhook" | "test_card"): Promise<CardSetupResult> {
  const attempt = await lockAttempt(tx, si);
  if (!attempt) return { status: "not_ours" };
  return applyVerdict(tx, attempt, setupIntentVerdict(si), card, { orgId: attempt.orgId, cardSetupId: attempt.id, intentId: si.id, via });
}

/** Applies an outcome to a locked attempt (a SetupIntent's, or a top-up's with setup_future_usage). */
async function applyVerdict(
  tx: Tx,
  attempt: CardSetup,
  verdict: SetupVerdict,
  card: SavedCard | null,
  ctx: { orgId: string; cardSetupId: number; intentId: string; via: string },
): Promise<CardSetupResult> {
  if (verdict.kind === "succeeded") {
    if (!card || card.paymentMethodId !== verdict.paymentMethodId) throw new Error(`intent ${ctx.intentId}: card details missing`);
    if (attempt.status === "succeeded" || attempt.status === "superseded") return { status: attempt.status === "succeeded" ? "saved" : "superseded", card };
    const s = await lockSettings(tx, attempt.orgId);
    if (s.cardSetupId !== null && s.cardSetupId > attempt.id) {
      // A newer attempt saved the card already: this one must not overwrite it.
      await tx.update(cardSetups).set({ status: "superseded", paymentMethodId: card.paymentMethodId, updatedAt: sql`now()` }).where(eq(cardSetups.id, attempt.id));
      if (card.paymentMethodId !== s.paymentMethodId) await enqueueDetach(tx, attempt.orgId, card.paymentMethodId);
      log.info({ event: "card_setup_superseded", ...ctx }, "an older card setup succeeded after a newer one: not saved");
      return { status: "superseded", card };
    }
    await tx
      .update(balanceSettings)
      .set({
        paymentMethodId: card.paymentMethodId,
        cardBrand: card.brand,
        cardLast4: card.last4,
        cardSavedByUserId: attempt.userId,
        cardSetupId: attempt.id,
        autoRechargeDisabledReason: null,
        updatedAt: sql`now()`,
      })
      .where(eq(balanceSettings.orgId, attempt.orgId));
    await tx.update(cardSetups).set({ status: "succeeded", paymentMethodId: card.paymentMethodId, failureCode: null, failureMessage: null, updatedAt: sql`now()` }).where(eq(cardSetups.id, attempt.id));
    if (s.paymentMethodId && s.paymentMethodId !== card.paymentMethodId) await enqueueDetach(tx, attempt.orgId, s.paymentMethodId);
    await recordAudit(tx, {
      actorUserId: attempt.userId,
      action: "card.save",
      target: { type: "organization", id: attempt.orgId },
      orgId: attempt.orgId,
      details: { paymentMethodId: card.paymentMethodId, brand: card.brand, last4: card.last4, intentId: ctx.intentId, replaced: s.paymentMethodId ?? null },
    });
    log.info({ event: "card_saved", ...ctx, paymentMethodId: card.paymentMethodId }, "card saved for off-session payments");
    return { status: "saved", card };
  }
  if (attempt.status === "succeeded" || attempt.status === "superseded") {
    // Stripe never takes a succeeded SetupIntent back; a stale copy (read before the success was
    // applied) says nothing new: answer with what was recorded.
    const [s] = await tx.select().from(balanceSettings).where(eq(balanceSettings.orgId, attempt.orgId));
    const current = s?.cardSetupId === attempt.id;
    const recorded: SavedCard = { paymentMethodId: attempt.paymentMethodId!, brand: current ? s!.cardBrand : null, last4: current ? s!.cardLast4 : null };
    return { status: attempt.status === "succeeded" ? "saved" : "superseded", card: recorded };
  }
  if (verdict.kind === "failed") {
    await tx.update(cardSetups).set({ status: "failed", failureCode: verdict.code, failureMessage: verdict.message, updatedAt: sql`now()` }).where(eq(cardSetups.id, attempt.id));
    await tx
      .insert(notifications)
      .values({
        orgId: attempt.orgId,
        kind: "card_setup_failed",
        causeKey: `card_setup_failed:${attempt.id}`,
        message: `A card could not be saved for auto-recharge (${verdict.message.replace(/\.$/, "")}). Nothing was changed; save another card to use auto-recharge.`,
        data: { cardSetupId: attempt.id, intentId: ctx.intentId, code: verdict.code },
      })
      .onConflictDoNothing();
    log.warn({ event: "card_setup_failed", ...ctx, code: verdict.code }, "card setup failed");
    return { status: "failed", message: verdict.message };
  }
  if (verdict.kind === "canceled") {
    await tx.update(cardSetups).set({ status: "canceled", updatedAt: sql`now()` }).where(eq(cardSetups.id, attempt.id));
    return { status: "canceled" };
  }
  return { status: verdict.kind };
}

async function enqueueDetach(tx: Tx, orgId: string, paymentMethodId: string): Promise<void> {
  await enqueue(tx, "stripe.detach-payment-method", { orgId, paymentMethodId }, { singletonKey: `detach:${paymentMethodId}` });
}

/** Re-reads a SetupIntent (and its card) from Stripe and applies it in one transaction. */
export async function settleSetupIntent(db: Db, setupIntentId: string, via: "page" | "test_card"): Promise<CardSetupResult> {
  const si = await retrieveSetupIntent(setupIntentId);
  const pm = si.status === "succeeded" ? idOf(si.payment_method) : null;
  const card = pm ? await savedCardOf(pm) : null;
  return db.transaction((tx) => applySetupIntent(tx, si, card, via));
}

/**
 * The page's verification of an attempt of this organisation (after Stripe.js confirmed it, or
 * on the return_url): not_found unless the SetupIntent is one of the organisation's attempts.
 */
export async function verifyCardSetup(db: Db, p: { orgId: string; setupIntentId: string }): Promise<CardSetupResult> {
  const [row] = await db.select({ orgId: cardSetups.orgId }).from(cardSetups).where(eq(cardSetups.stripeSetupIntentId, p.setupIntentId));
  if (!row || row.orgId !== p.orgId) throw new AppError("not_found", "That card setup was not found.");
  return settleSetupIntent(db, p.setupIntentId, "page");
}

/** The detach job: never the card in use (it may have been saved again in between). */
export async function runDetachJob(db: Db, data: { orgId: string; paymentMethodId: string }): Promise<unknown> {
  const [s] = await db.select({ pm: balanceSettings.paymentMethodId }).from(balanceSettings).where(eq(balanceSettings.orgId, data.orgId));
  if (s?.pm === data.paymentMethodId) return { outcome: "in_use" };
  return { outcome: await detachPaymentMethod(data.paymentMethodId) };
}

// ---- Saving the card of a top-up paid with setup_future_usage: "off_session" ----------------

/** A request id for the attempt of a purchase (one attempt per purchase). */
function purchaseAttemptRequestId(purchaseId: string): string {
  const h = createHash("sha256").update(`card-from-purchase\u0000${purchaseId}`).digest();
  h[6] = (h[6]! & 0x0f) | 0x80;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString("hex");
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

/**
 * Whether a top-up saves its card. Asked (`wanted`) only before its PaymentIntent exists: the
 * attempt row is made then, and from then on the row's existence is the answer, so a re-submit
 * creates the PaymentIntent with the same parameters (same idempotency key) whatever it asks.
 */
export async function topUpSavesCard(db: Db, p: { orgId: string; userId: string; purchaseId: string; linked: boolean; wanted: boolean }): Promise<boolean> {
  if (p.wanted && !p.linked) {
    await db
      .insert(cardSetups)
      .values({ orgId: p.orgId, userId: p.userId, requestId: purchaseAttemptRequestId(p.purchaseId), purchaseId: p.purchaseId })
      .onConflictDoNothing();
  }
  const [row] = await db.select({ id: cardSetups.id }).from(cardSetups).where(eq(cardSetups.purchaseId, p.purchaseId));
  return Boolean(row);
}

/**
 * Settlement (in its transaction, when a purchase paid with setup_future_usage succeeded): a job
 * saves the card. The job finds the attempt (none: the card was not asked for, nothing to do).
 */
export async function afterTopUpSucceeded(tx: Tx, purchase: Pick<Purchase, "id">): Promise<void> {
  await enqueue(tx, "balance.save-card-from-payment", { purchaseId: purchase.id }, { singletonKey: `card-from-purchase:${purchase.id}` });
}

/** The job: reads the PaymentIntent and its card from Stripe, and applies it like a SetupIntent. */
export async function runSaveCardFromPaymentJob(db: Db, data: { purchaseId: string }): Promise<unknown> {
  const [purchase] = await db.select().from(purchases).where(eq(purchases.id, data.purchaseId));
  if (!purchase?.stripePaymentIntentId) return { outcome: "no_payment" };
  const pi = await retrievePaymentIntent(purchase.stripePaymentIntentId);
  const pmId = pi.status === "succeeded" && pi.setup_future_usage ? idOf(pi.payment_method) : null;
  const card = pmId ? await savedCardOf(pmId) : null;
  return db.transaction(async (tx) => {
    const [attempt] = await tx.select().from(cardSetups).where(eq(cardSetups.purchaseId, purchase.id)).for("update");
    if (!attempt || attempt.orgId !== purchase.orgId) return { outcome: "not_ours" };
    const verdict: SetupVerdict = pmId ? { kind: "succeeded", paymentMethodId: pmId } : { kind: "canceled" };
    const r = await applyVerdict(tx, attempt, verdict, card, { orgId: attempt.orgId, cardSetupId: attempt.id, intentId: pi.id, via: "top_up" });
    return { outcome: r.status };
  });
}
