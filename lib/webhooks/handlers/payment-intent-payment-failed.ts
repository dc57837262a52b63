import type Stripe from "stripe";
import type { Tx } from "@/db/client";
import { settleFromPaymentIntent } from "../../topups/settle";
import { cancelPaymentIntent } from "../../stripe/payment-intents";
import type { HandlerResult } from "./index";

/**
 * Payment declined: purchase failed with the decline reason, coupon hold released. Its intent is
 * then cancelled at Stripe, so the same client secret cannot be confirmed again later: a retry is
 * a new purchase, and a released coupon hold can never turn into a redemption past the cap.
 */
export async function onPaymentIntentPaymentFailed(tx: Tx, event: Stripe.PaymentIntentPaymentFailedEvent): Promise<HandlerResult> {
  const pi = event.data.object;
  const result = await settleFromPaymentIntent(tx, pi);
  if (!result) return { detail: "no purchase for this PaymentIntent" };
  const detail = result.changed ? `purchase ${result.purchase.id} ${result.purchase.status}` : `purchase ${result.purchase.id} already ${result.purchase.status}`;
  if (result.purchase.status !== "failed") return { detail };
  const purchaseId = result.purchase.id;
  return {
    detail,
    afterCommit: async () => {
      await cancelPaymentIntent(pi.id, purchaseId);
    },
  };
}
