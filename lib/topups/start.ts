// Starting a top-up: a pending purchase (with its coupon hold) and its PaymentIntent.
// A double submit carries the same requestId and gets the same purchase and PaymentIntent back;
// the coupon row lock makes the redemption cap exact under concurrent checkouts.
import { and, eq, sql } from "drizzle-orm";
import type { Db } from "@/db/client";
import { couponRedemptions, creditPacks, purchases, type Organization, type Purchase } from "@/db/schema";
import { AppError } from "../errors";
import type { OrgRole } from "../auth/roles";
import { assertNotThrottled, evaluateCouponFor, recordWrongCode } from "../coupons/service";
import { ensureStripeCustomer } from "../stripe/customers";
import { createPurchasePaymentIntent, isStripeConnectionError } from "../stripe/payment-intents";
import { reclaimStaleHolds } from "./reclaim";
import { closePendingPurchase } from "./settle";
import { formatCredits } from "../money/money";

export type StartTopUpInput = {
  org: Pick<Organization, "id" | "name" | "slug">;
  userId: string;
  role: OrgRole;
  packId: string;
  couponCode?: string | null;
  requestId: string;
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

    if (couponCode) {
      await assertNotThrottled(db, input.org.id);
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
      if (couponId) await tx.insert(couponRedemptions).values({ couponId, orgId: input.org.id, purchaseId: row.id });
      return { purchase: row } as const;
    });

    if (created.refused) {
      const { reason, message } = created.refused;
      if (reason === "not_found") await recordWrongCode(db, input.org.id, couponCode!);
      throw new AppError("coupon_invalid", message, { reason });
    }
    purchase = created.purchase ?? (await findByRequest(db, input));
    if (!purchase) throw new Error("purchase vanished after a conflicting insert");
  }

  if (purchase.status !== "pending") {
    throw new AppError("conflict", "This checkout has already finished. Start a new top-up to pay again.");
  }

  let clientSecret: string;
  try {
    const customerId = await ensureStripeCustomer(db, input.org);
    const pi = await createPurchasePaymentIntent({
      purchaseId: purchase.id,
      orgId: input.org.id,
      customerId,
      amount: purchase.amount,
      currency: purchase.currency,
      description: `Creditloop top-up: ${formatCredits(purchase.credits)} credits for ${input.org.name}`,
    });
    await db
      .update(purchases)
      .set({ stripePaymentIntentId: pi.id, updatedAt: sql`now()` })
      .where(eq(purchases.id, purchase.id));
    clientSecret = pi.client_secret!;
  } catch (e) {
    // The browser never received a client secret, so nothing can be charged for this purchase:
    // close it and free its coupon hold, whatever went wrong.
    await db.transaction((tx) =>
      closePendingPurchase(tx, purchase.id, "canceled", { code: "checkout_failed", message: "The payment could not be set up." }),
    );
    if (!isStripeConnectionError(e)) throw e;
    throw new AppError("payment_provider_unavailable", "We couldn't reach the payment provider. Nothing was charged; please try again in a moment.");
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
