import type Stripe from "stripe";
import type { Tx } from "@/db/client";
import { settleFromPaymentIntent } from "../../topups/settle";
import type { HandlerResult } from "./index";

/** Checkout abandoned or cancelled: purchase canceled, coupon hold released. */
export async function onPaymentIntentCanceled(tx: Tx, event: Stripe.PaymentIntentCanceledEvent): Promise<HandlerResult> {
  const result = await settleFromPaymentIntent(tx, event.data.object);
  if (!result) return { detail: "no purchase for this PaymentIntent" };
  return { detail: `purchase ${result.purchase.id} ${result.purchase.status}` };
}
