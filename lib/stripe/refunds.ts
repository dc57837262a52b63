// Refund and dispute calls. A refund's idempotency key is derived from our refund-request row
// (`refund:<id>`), so the job that makes it can run any number of times and refunds once.
import "server-only";
import Stripe from "stripe";
import { stripe } from "./client";

export async function createStripeRefund(p: { refundId: string; paymentIntentId: string; amount: number; purchaseId: string; orgId: string }): Promise<Stripe.Refund> {
  return stripe().refunds.create(
    {
      payment_intent: p.paymentIntentId,
      amount: p.amount,
      reason: "requested_by_customer",
      metadata: { refund_request_id: p.refundId, purchase_id: p.purchaseId, org_id: p.orgId },
    },
    { idempotencyKey: `refund:${p.refundId}` },
  );
}

/** Stripe refused the request itself (amount too large, already refunded…): retrying cannot help. */
export function isPermanentRefundError(e: unknown): e is Stripe.errors.StripeInvalidRequestError {
  return e instanceof Stripe.errors.StripeInvalidRequestError;
}

/** With its payment_intent expanded: the intent's metadata names our purchase before it is linked. */
export async function retrieveDispute(id: string): Promise<Stripe.Dispute> {
  return stripe().disputes.retrieve(id, { expand: ["payment_intent"] });
}
