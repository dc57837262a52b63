// Starting a top-up: a pending purchase (with its coupon hold) and its PaymentIntent (with
// setup_future_usage when an admin asks to save the card for auto-recharge: card-setup.ts).
// A double submit carries the same requestId and gets the same purchase and PaymentIntent back;
// the coupon row lock makes the redemption cap exact under concurrent checkouts.
// Linking the intent is guarded (pending and not linked to another intent): a checkout that was
// closed meanwhile (reclaimed, cancelled) never hands out a client secret, and its freshly
// created intent is cancelled by a job enqueued in the same transaction as the refusal.
import { and, eq, sql } from "drizzle-orm";
import type { Db, DbOrTx } from "@/db/client";
import { creditPacks, purchases, type Organization, type Purchase } from "@/db/schema";
import { AppError } from "../errors";
import type { OrgRole } from "../auth/roles";
import { checkCouponGuess, evaluateCouponFor } from "../coupons/service";
import { ensureStripeCustomer } from "../stripe/customers";
import { createPurchasePaymentIntent, isStripeConnectionError } from "../stripe/payment-intents";
import { holdRedemption } from "../coupons/redemptions";
import { log } from "../log";
import { reclaimStaleHolds } from "./reclaim";
import { topUpSavesCard } from "../balance-care/card-setup";
import { closeUnlinkedPurchase, enqueueCancelIntent } from "./settle";
import { formatCredits, isSupportedCurrency, minimumCharge } from "../money/money";

export type StartTopUpInput = {
  org: Pick<Organization, "id" | "name" | "slug">;
  userId: string;
  role: OrgRole;
  packId: string;
  couponCode?: string | null;
  requestId: string;
  /** Admins: save the card for auto-recharge (setup_future_usage), embedded checkout only. */
  saveCard?: boolean;
};

export type StartedTopUp = {
  purchaseId: string;
  clientSecret: string;
  amount: number;
  discount: number;
  currency: string;
  credits: number;
};

export async function startTopUp(db: Db, input: StartTopUpInput): Promise<StartedTopUp> {
  if (input.saveCard && input.role !== "admin") throw new AppError("forbidden", "Only organisation admins can save a card for auto-recharge.");
  const purchase = await reservePurchase(db, input);
  return payEmbedded(db, input, purchase);
}

/**
 * The pending purchase for this request (created with its coupon hold, or the one a double submit
 * already made), shared by the embedded form and the hosted Checkout Session (lib/topups/checkout.ts).
 */
export async function reservePurchase(db: Db, input: StartTopUpInput): Promise<Purchase> {
  const couponCode = input.couponCode?.trim() || null;
  if (couponCode && input.role !== "admin") {
    throw new AppError("forbidden", "Only organisation admins can apply coupons.");
  }

  let purchase = await findByRequest(db, input);
  if (!purchase) {
    const [pack] = await db
      .select()
      .from(creditPacks)
      .where(and(eq(creditPacks.id, input.packId), eq(creditPacks.active, true)));
    if (!pack) throw new AppError("not_found", "That credit pack is no longer available.");
    // Packs are priced in a currency Stripe charges and above its minimum (lib/money/currencies.ts).
    if (!isSupportedCurrency(pack.currency) || pack.amount < minimumCharge(pack.currency)) {
      throw new AppError("not_found", "That credit pack is no longer available.");
    }

    if (couponCode) {
      await checkCouponGuess(db, input.org.id, couponCode);
      await reclaimStaleHolds(db, couponCode, { orgId: input.org.id });
    }

    const created = await db.transaction(async (tx) => {
      let discount = 0;
      let couponId: string | null = null;
      if (couponCode) {
        const { coupon, evaluation } = await evaluateCouponFor(tx, {
          code: couponCode,
          orgId: input.org.id,
          subtotal: pack.amount,
          currency: pack.currency,
          lock: true,
        });
        if (!evaluation.ok) return { refused: evaluation } as const;
        discount = evaluation.discount;
        couponId = coupon!.id;
      }
      const [row] = await tx
        .insert(purchases)
        .values({
          orgId: input.org.id,
          userId: input.userId,
          packId: pack.id,
          requestId: input.requestId,
          credits: pack.credits,
          subtotal: pack.amount,
          discount,
          amount: pack.amount - discount,
          currency: pack.currency,
          couponId,
        })
        .onConflictDoNothing({ target: purchases.requestId })
        .returning();
      if (!row) return { purchase: null } as const; // a concurrent double submit won
      if (couponId) await holdRedemption(tx, { couponId, orgId: input.org.id, purchaseId: row.id });
      return { purchase: row } as const;
    });

    if (created.refused) {
      const { reason, message } = created.refused;
      throw new AppError("coupon_invalid", message, { reason });
    }
    purchase = created.purchase ?? (await findByRequest(db, input));
    if (!purchase) throw new Error("purchase vanished after a conflicting insert");
  }

  if (purchase.status !== "pending") {
    throw new AppError("conflict", "This checkout has already finished. Start a new top-up to pay again.");
  }
  return purchase;
}

async function payEmbedded(db: Db, input: StartTopUpInput, purchase: Purchase): Promise<StartedTopUp> {
  let clientSecret: string;
  try {
    const customerId = await ensureStripeCustomer(db, input.org);
    const saveCard = await topUpSavesCard(db, { orgId: input.org.id, userId: input.userId, purchaseId: purchase.id, linked: purchase.stripePaymentIntentId !== null, wanted: input.saveCard === true });
    // Idempotency key purchase:<id>: a re-submit gets the same intent back.
    const pi = await createPurchasePaymentIntent({
      saveCard,
      purchaseId: purchase.id,
      orgId: input.org.id,
      customerId,
      amount: purchase.amount,
      currency: purchase.currency,
      description: `Creditloop top-up: ${formatCredits(purchase.credits)} credits for ${input.org.name}`,
    });
    const linked = await linkPaymentIntent(db, purchase.id, pi.id);
    if (!linked) throw new AppError("conflict", "This checkout has already finished. Start a new top-up to pay again.");
    clientSecret = pi.client_secret!;
  } catch (e) {
    if (e instanceof AppError) throw e;
    // If no intent is linked, none can be any more after this guarded close, so no client secret
    // for this purchase can ever reach a browser: close it and free its hold. If one is linked
    // (a re-submit of a checkout whose secret was handed out), it stays open: it may be paid.
    const closed = await db.transaction((tx) =>
      closeUnlinkedPurchase(tx, purchase.id, { code: "checkout_failed", message: "The payment could not be set up." }),
    );
    log.warn({ purchaseId: purchase.id, orgId: input.org.id, closed: Boolean(closed), err: e }, "checkout could not set up its PaymentIntent");
    if (!isStripeConnectionError(e)) throw e;
    throw new AppError(
      "payment_provider_unavailable",
      closed
        ? "We couldn't reach the payment provider. Nothing was charged; please try again in a moment."
        : "We couldn't reach the payment provider. Please try again in a moment.",
    );
  }
  return {
    purchaseId: purchase.id,
    clientSecret,
    amount: purchase.amount,
    discount: purchase.discount,
    currency: purchase.currency,
    credits: purchase.credits,
  };
}

async function findByRequest(db: Db, input: StartTopUpInput): Promise<Purchase | undefined> {
  const [row] = await db.select().from(purchases).where(eq(purchases.requestId, input.requestId));
  if (row && (row.orgId !== input.org.id || row.userId !== input.userId)) {
    throw new AppError("conflict", "This checkout belongs to someone else. Reload the page to start again.");
  }
  return row;
}

/**
 * Links the intent to the purchase if the purchase is still pending and not linked to another
 * intent (the same one again is a re-submit). Otherwise the intent lost the race: a job cancels
 * it at Stripe, enqueued in the same transaction as this decision.
 */
export async function linkPaymentIntent(db: Db, purchaseId: string, paymentIntentId: string): Promise<boolean> {
  return db.transaction(async (tx) => {
    if (await tryLinkPaymentIntent(tx, purchaseId, paymentIntentId)) return true;
    const [current] = await tx.select({ pi: purchases.stripePaymentIntentId }).from(purchases).where(eq(purchases.id, purchaseId));
    if (current?.pi !== paymentIntentId) {
      await enqueueCancelIntent(tx, paymentIntentId, purchaseId, "lost_link_race");
      log.warn({ purchaseId, paymentIntentId }, "PaymentIntent created for a checkout that was closed meanwhile; cancelling it");
    }
    return false;
  });
}

/**
 * The guarded link alone, in the caller's transaction: links only a pending purchase not linked to
 * another intent. (The hosted checkout's webhook uses it without the cancel: an intent paid on
 * Stripe's page is never cancelled; settlement decides what it means.)
 */
export async function tryLinkPaymentIntent(tx: DbOrTx, purchaseId: string, paymentIntentId: string): Promise<boolean> {
  const [row] = await tx
    .update(purchases)
    .set({ stripePaymentIntentId: paymentIntentId, updatedAt: sql`now()` })
    .where(
      sql`${purchases.id} = ${purchaseId} AND ${purchases.status} = 'pending'
          AND (${purchases.stripePaymentIntentId} IS NULL OR ${purchases.stripePaymentIntentId} = ${paymentIntentId})`,
    )
    .returning({ id: purchases.id });
  return Boolean(row);
}

/**
 * The hosted checkout's link, when its session completes (the webhook, in its transaction): as
 * tryLinkPaymentIntent, and also a purchase that was closed while still unlinked — the reclaim
 * sweep closes an abandoned checkout after HOLD_TTL_MS, but Stripe's page stays payable until the
 * session expires, so this intent is the one paying it. No client secret is handed out here (the
 * payment was made on Stripe's page); settlement then grants a success (decide.ts: late success).
 */
export async function linkCompletedCheckout(tx: DbOrTx, purchaseId: string, paymentIntentId: string): Promise<boolean> {
  const [row] = await tx
    .update(purchases)
    .set({ stripePaymentIntentId: paymentIntentId, updatedAt: sql`now()` })
    .where(
      sql`${purchases.id} = ${purchaseId}
          AND (${purchases.stripePaymentIntentId} = ${paymentIntentId}
               OR (${purchases.stripePaymentIntentId} IS NULL AND ${purchases.status} IN ('pending', 'canceled')))`,
    )
    .returning({ id: purchases.id });
  return Boolean(row);
}
