// The person paying walks away from a checkout: cancel its PaymentIntent, then record the final
// state Stripe reports (which may be "succeeded" if the payment won the race).
import { and, eq } from "drizzle-orm";
import type { Db } from "@/db/client";
import { purchases } from "@/db/schema";
import { AppError } from "../errors";
import { cancelPaymentIntent, retrievePaymentIntent } from "../stripe/payment-intents";
import { settleFromPaymentIntent } from "./settle";

export async function cancelTopUp(db: Db, p: { orgId: string; purchaseId: string }): Promise<{ status: string }> {
  const [purchase] = await db
    .select()
    .from(purchases)
    .where(and(eq(purchases.id, p.purchaseId), eq(purchases.orgId, p.orgId)));
  if (!purchase) throw new AppError("not_found", "Purchase not found.");
  if (purchase.status !== "pending" || !purchase.stripePaymentIntentId) return { status: purchase.status };
  let pi = await retrievePaymentIntent(purchase.stripePaymentIntentId);
  if (pi.status !== "succeeded" && pi.status !== "canceled" && pi.status !== "processing") {
    pi = await cancelPaymentIntent(pi.id, purchase.id);
  }
  const settled = await db.transaction((tx) => settleFromPaymentIntent(tx, pi));
  return { status: settled?.purchase.status ?? purchase.status };
}
