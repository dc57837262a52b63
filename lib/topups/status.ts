// What the settling page shows: the purchase, verified against Stripe while it is pending (and
// finalised here if Stripe says it is final, before or after the webhook — credits once either way).
// If Stripe cannot be reached the view says so (`verified: false`) instead of failing: the page
// keeps asking and never claims to know what happened to the money.
import { and, eq, sql } from "drizzle-orm";
import type { Db } from "@/db/client";
import { campaigns, organizations, purchases, type Purchase } from "@/db/schema";
import { AppError } from "../errors";
import { isStripeConnectionError, retrievePaymentIntent } from "../stripe/payment-intents";
import { log } from "../log";
import { settleFromPaymentIntent } from "./settle";

export type PurchaseStatusView = {
  id: string;
  status: Purchase["status"];
  /** Stripe still needs the customer (3-D Secure) before the payment can settle. */
  requiresAction: boolean;
  /** False when this look could not reach Stripe (the status is then our last known one). */
  verified: boolean;
  credits: number;
  amount: number;
  discount: number;
  currency: string;
  failureMessage: string | null;
  balance: number;
  activeCampaigns: number;
  pausedForCredits: number;
};

export async function purchaseStatus(db: Db, p: { orgId: string; purchaseId: string; verify?: boolean }): Promise<PurchaseStatusView> {
  let [purchase] = await db
    .select()
    .from(purchases)
    .where(and(eq(purchases.id, p.purchaseId), eq(purchases.orgId, p.orgId)));
  if (!purchase) throw new AppError("not_found", "Purchase not found.");
  let requiresAction = false;
  let verified = true;
  if (p.verify !== false && purchase.status === "pending" && purchase.stripePaymentIntentId) {
    try {
      const pi = await retrievePaymentIntent(purchase.stripePaymentIntentId);
      requiresAction = pi.status === "requires_action";
      const settled = await db.transaction((tx) => settleFromPaymentIntent(tx, pi));
      if (settled) purchase = settled.purchase;
    } catch (e) {
      if (!isStripeConnectionError(e)) throw e;
      verified = false;
      log.warn({ purchaseId: purchase.id, err: e }, "settling page could not reach Stripe");
    }
  } else if (p.verify === false && purchase.status === "pending") verified = false;
  const [org] = await db.select({ balance: organizations.balance }).from(organizations).where(eq(organizations.id, p.orgId));
  const [counts] = await db
    .select({
      active: sql<number>`count(*) filter (where ${campaigns.status} = 'active')::int`,
      paused: sql<number>`count(*) filter (where ${campaigns.status} = 'paused' and ${campaigns.pauseReason} = 'insufficient_credits')::int`,
    })
    .from(campaigns)
    .where(eq(campaigns.orgId, p.orgId));
  return {
    id: purchase.id,
    status: purchase.status,
    requiresAction,
    verified,
    credits: purchase.credits,
    amount: purchase.amount,
    discount: purchase.discount,
    currency: purchase.currency,
    failureMessage: purchase.failureMessage,
    balance: org!.balance,
    activeCampaigns: counts!.active,
    pausedForCredits: counts!.paused,
  };
}
