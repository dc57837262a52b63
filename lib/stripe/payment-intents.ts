// PaymentIntent calls. Every mutating call carries an idempotency key derived from our purchase
// id, so a retried action can never create or confirm twice.
import "server-only";
import Stripe from "stripe";
import { serverEnv } from "../env";
import { stripe, stripeMode } from "./client";
import type { TestPaymentMethod } from "./test-cards";

export type { Stripe };

export async function createPurchasePaymentIntent(p: {
  purchaseId: string;
  orgId: string;
  customerId: string;
  amount: number;
  currency: string;
  description: string;
  /** Save the card for auto-recharge (off-session payments) when the payment succeeds. */
  saveCard?: boolean;
}): Promise<Stripe.PaymentIntent> {
  return stripe().paymentIntents.create(
    {
      amount: p.amount,
      currency: p.currency,
      customer: p.customerId,
      description: p.description,
      ...(p.saveCard ? { setup_future_usage: "off_session" as const } : {}),
      // Cards only, no redirect-based methods: the test-card form confirms without a return_url.
      automatic_payment_methods: { enabled: true, allow_redirects: "never" },
      metadata: { purchase_id: p.purchaseId, org_id: p.orgId },
    },
    { idempotencyKey: `purchase:${p.purchaseId}` },
  );
}

export async function retrievePaymentIntent(id: string): Promise<Stripe.PaymentIntent> {
  return stripe().paymentIntents.retrieve(id);
}

export type ConfirmOutcome =
  | { kind: "intent"; paymentIntent: Stripe.PaymentIntent }
  | { kind: "declined"; paymentIntent: Stripe.PaymentIntent | null; code: string; message: string };

/** Server-side confirmation with one of Stripe's test payment methods (test-card form). */
export async function confirmWithTestPaymentMethod(
  paymentIntentId: string,
  purchaseId: string,
  paymentMethod: TestPaymentMethod,
): Promise<ConfirmOutcome> {
  try {
    const pi = await stripe().paymentIntents.confirm(
      paymentIntentId,
      { payment_method: paymentMethod },
      { idempotencyKey: `purchase:${purchaseId}:confirm:${paymentMethod}` },
    );
    return { kind: "intent", paymentIntent: pi };
  } catch (e) {
    if (e instanceof Stripe.errors.StripeCardError) {
      const raw = e.raw as { payment_intent?: Stripe.PaymentIntent } | undefined;
      return {
        kind: "declined",
        paymentIntent: raw?.payment_intent ?? e.payment_intent ?? null,
        code: e.decline_code ?? e.code ?? "card_declined",
        message: e.message,
      };
    }
    throw e;
  }
}

/**
 * Cancels an intent (lib/topups/cancel.ts settles from the intent Stripe returns). The key is per
 * attempt — `purchase:<id>:cancel:<attempt>` — not per intent: Stripe replays a key's first
 * result for 24 h, including a 500, so a job retrying after a Stripe failure must not reuse it.
 * Cancelling twice is harmless (the second is refused as payment_intent_unexpected_state).
 */
export async function cancelPaymentIntent(id: string, purchaseId: string, attempt: string = crypto.randomUUID()): Promise<Stripe.PaymentIntent> {
  return stripe().paymentIntents.cancel(id, { cancellation_reason: "abandoned" }, { idempotencyKey: `purchase:${purchaseId}:cancel:${attempt}` });
}

/**
 * Local mode only: stands in for the 3-D Secure challenge that Stripe.js shows in real mode, by
 * asking the emulator to complete (or fail) the customer's authentication.
 */
export async function completeTestAuthentication(paymentIntentId: string, outcome: "succeed" | "fail"): Promise<void> {
  if (stripeMode() !== "local") throw new Error("3-D Secure is completed by Stripe.js in real mode");
  const res = await fetch(new URL(`/_emulator/payment_intents/${paymentIntentId}/authenticate`, serverEnv().STRIPE_EMULATOR_URL), {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ outcome }),
  });
  if (!res.ok) throw new Error(`emulator authentication failed: ${res.status} ${await res.text()}`);
}

export function isStripeConnectionError(e: unknown): boolean {
  return (
    e instanceof Stripe.errors.StripeConnectionError ||
    e instanceof Stripe.errors.StripeAPIError ||
    e instanceof Stripe.errors.StripeRateLimitError
  );
}
