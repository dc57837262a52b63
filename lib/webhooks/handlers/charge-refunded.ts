import type Stripe from "stripe";
import type { Tx } from "@/db/client";
import { reverseRefundedShare } from "../../refunds/reversal";
import type { HandlerResult } from "./types";

/**
 * Money went back: reverse the refunded share of the purchase's credits. amount_refunded only
 * grows, and the reversal is cumulative and keyed by it, so the event's copy is safe to use even
 * when events arrive late or out of order (an older total adds nothing).
 */
export async function onChargeRefunded(tx: Tx, event: Stripe.ChargeRefundedEvent): Promise<HandlerResult> {
  return { detail: await reverseRefundedShare(tx, event.data.object) };
}
