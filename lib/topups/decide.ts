// What a PaymentIntent means for a purchase: ONE pure decision, applied by lib/topups/settle.ts.
// Stripe is the source of truth for payment state, so the decision only reads the intent as
// Stripe reports it now (callers re-fetch it before acting on a failure or a cancellation) and
// the purchase as locked in our database.
//
//  intent status                  purchase pending        purchase failed        canceled / succeeded / needs_review
//  succeeded, amount+currency ok  grant                   grant (late success)   canceled: grant; others: nothing
//  succeeded, mismatch            review (grant nothing)  review                 canceled: review; others: nothing
//  canceled                       cancel + release hold   release hold           nothing (already final)
//  requires_payment_method + error decline (hold kept,   cancel intent again    nothing
//                                 cancel intent: a job)
//  anything else (processing, requires_action, …) wait
//
// A hold is released only by "canceled" here (or by lib/topups/reclaim.ts for a purchase that
// never got a linked intent): a declined intent could still be confirmed again with the client
// secret the browser holds, so its hold stays until Stripe confirms the cancellation.
// Money in ⇒ credits in: a success is granted whatever we thought of the purchase before.
import type Stripe from "stripe";
import type { PurchaseStatus } from "@/db/schema";

export type IntentFacts = Pick<Stripe.PaymentIntent, "id" | "status" | "amount" | "amount_received" | "currency" | "cancellation_reason"> & {
  last_payment_error?: Pick<NonNullable<Stripe.PaymentIntent["last_payment_error"]>, "code" | "decline_code" | "message" | "type"> | null;
};
export type PurchaseFacts = { status: PurchaseStatus; amount: number; currency: string };

export type Decision =
  | { kind: "grant" }
  | { kind: "review"; reason: string }
  | { kind: "decline"; code: string; message: string; cancelIntent: true }
  | { kind: "retry_cancel" }
  | { kind: "canceled"; closePurchase: boolean; code: string }
  | { kind: "wait"; reason: string }
  | { kind: "nothing"; reason: string };

/** The reason a person can act on, from the intent's last payment error. */
export function declineOf(err: IntentFacts["last_payment_error"]): { code: string; message: string } {
  return {
    code: err?.decline_code ?? err?.code ?? "payment_failed",
    message: err?.message ?? "The payment failed.",
  };
}

/** Amount and currency Stripe received versus what the purchase charges; null when they agree. */
export function mismatchOf(purchase: PurchaseFacts, pi: IntentFacts): string | null {
  const currency = pi.currency.toLowerCase();
  if (currency !== purchase.currency) return `Stripe received ${pi.amount_received} ${currency}; the purchase charges ${purchase.amount} ${purchase.currency}.`;
  if (pi.amount_received !== purchase.amount) return `Stripe received ${pi.amount_received} ${currency}; the purchase charges ${purchase.amount} ${purchase.currency}.`;
  return null;
}

export function decideSettlement(purchase: PurchaseFacts, pi: IntentFacts): Decision {
  const s = purchase.status;
  switch (pi.status) {
    case "succeeded": {
      if (s === "succeeded" || s === "needs_review") return { kind: "nothing", reason: `purchase already ${s}` };
      const mismatch = mismatchOf(purchase, pi);
      if (mismatch) return { kind: "review", reason: mismatch };
      return { kind: "grant" };
    }
    case "canceled":
      if (s === "pending") return { kind: "canceled", closePurchase: true, code: pi.cancellation_reason ?? "canceled" };
      if (s === "failed") return { kind: "canceled", closePurchase: false, code: pi.cancellation_reason ?? "canceled" };
      return { kind: "nothing", reason: `purchase already ${s}` };
    case "requires_payment_method": {
      if (!pi.last_payment_error) return { kind: "wait", reason: "no payment attempted yet" };
      if (s === "pending") return { kind: "decline", ...declineOf(pi.last_payment_error), cancelIntent: true };
      if (s === "failed") return { kind: "retry_cancel" };
      return { kind: "nothing", reason: `purchase already ${s}` };
    }
    default:
      return { kind: "wait", reason: `payment ${pi.status}` };
  }
}
