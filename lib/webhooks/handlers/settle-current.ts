// Shared by the failure and cancellation handlers: the event's copy of the intent may be stale
// (a late payment_failed for an intent that has since been confirmed again and succeeded, or is
// processing), so the intent is re-fetched from Stripe and the purchase settled from that.
import type Stripe from "stripe";
import type { Tx } from "@/db/client";
import { retrievePaymentIntent } from "../../stripe/payment-intents";
import { settleFromPaymentIntent } from "../../topups/settle";
import type { HandlerResult } from "./types";

export async function settleFromCurrentIntent(tx: Tx, stale: Stripe.PaymentIntent): Promise<HandlerResult> {
  const current = await retrievePaymentIntent(stale.id);
  const result = await settleFromPaymentIntent(tx, current);
  if (!result) return { detail: "no purchase for this PaymentIntent" };
  const seen = current.status === stale.status ? current.status : `${current.status} (event said ${stale.status})`;
  return {
    detail: `intent ${seen}: ${result.decision.kind}; purchase ${result.purchase.id} ${result.changed ? "now" : "stays"} ${result.purchase.status}`,
  };
}
