// Saved cards for off-session payments: a SetupIntent (usage off_session) confirmed in the browser
// with Stripe Elements or server-side with one of Stripe's test payment methods (the local
// test-card form; also works against real Stripe in test mode), detaching a replaced card, and
// the off-session PaymentIntent an auto-recharge makes with the saved card (off_session +
// confirm). Idempotency keys come from our own ids: setup:<request id>, detach:<pm>,
// purchase:<purchase id>.
import "server-only";
import Stripe from "stripe";
import { stripe } from "./client";

export { SETUP_TEST_CARDS, SETUP_TEST_PAYMENT_METHODS, type SetupTestCard } from "./setup-test-cards";
import type { SetupTestCard } from "./setup-test-cards";

export type SavedCard = { paymentMethodId: string; brand: string | null; last4: string | null };

/**
 * A SetupIntent for saving a card for off-session payments, for one attempt (card_setups row):
 * the browser confirms it with Elements (client_secret), or the server with a test card.
 * metadata ties it to the organisation and the attempt, so a webhook can find the attempt even
 * when the create's answer was lost before we linked it.
 */
export async function createSetupIntent(p: { customerId: string; orgId: string; cardSetupId: number; requestId: string }): Promise<Stripe.SetupIntent> {
  return stripe().setupIntents.create(
    {
      customer: p.customerId,
      usage: "off_session",
      automatic_payment_methods: { enabled: true, allow_redirects: "never" },
      metadata: { org_id: p.orgId, card_setup_id: String(p.cardSetupId) },
    },
    { idempotencyKey: `setup:${p.requestId}` },
  );
}

export async function retrieveSetupIntent(id: string): Promise<Stripe.SetupIntent> {
  return stripe().setupIntents.retrieve(id);
}

/**
 * Confirms a SetupIntent server-side with one of Stripe's test payment methods (the local
 * test-card form). A decline is not an error here: the SetupIntent says what happened (re-read
 * by the caller), so the result is the same whether we read it now or a webhook tells us later.
 */
export async function confirmSetupWithTestCard(p: { setupIntentId: string; requestId: string; paymentMethod: SetupTestCard }): Promise<"confirmed" | "declined"> {
  try {
    await stripe().setupIntents.confirm(p.setupIntentId, { payment_method: p.paymentMethod }, { idempotencyKey: `setup:${p.requestId}:confirm` });
    return "confirmed";
  } catch (e) {
    if (e instanceof Stripe.errors.StripeCardError) return "declined";
    throw e;
  }
}

export async function savedCardOf(paymentMethodId: string): Promise<SavedCard> {
  const pm = await stripe().paymentMethods.retrieve(paymentMethodId);
  return { paymentMethodId: pm.id, brand: pm.card?.brand ?? null, last4: pm.card?.last4 ?? null };
}

/** Detaches a replaced card from its customer; a card already detached is done too. */
export async function detachPaymentMethod(paymentMethodId: string): Promise<"detached" | "already_detached"> {
  const pm = await stripe().paymentMethods.retrieve(paymentMethodId);
  if (!pm.customer) return "already_detached";
  try {
    await stripe().paymentMethods.detach(paymentMethodId, {}, { idempotencyKey: `detach:${paymentMethodId}` });
    return "detached";
  } catch (e) {
    // Detached in between (by us on a retry, or at the dashboard).
    if (e instanceof Stripe.errors.StripeInvalidRequestError && e.code === "payment_method_unexpected_state") return "already_detached";
    throw e;
  }
}

export type OffSessionOutcome = { kind: "intent"; paymentIntent: Stripe.PaymentIntent } | { kind: "declined"; paymentIntent: Stripe.PaymentIntent | null; code: string; message: string };

export async function createOffSessionPaymentIntent(p: {
  purchaseId: string;
  orgId: string;
  customerId: string;
  paymentMethodId: string;
  amount: number;
  currency: string;
  description: string;
}): Promise<OffSessionOutcome> {
  try {
    const pi = await stripe().paymentIntents.create(
      {
        amount: p.amount,
        currency: p.currency,
        customer: p.customerId,
        payment_method: p.paymentMethodId,
        off_session: true,
        confirm: true,
        description: p.description,
        metadata: { purchase_id: p.purchaseId, org_id: p.orgId, source: "auto_recharge" },
      },
      { idempotencyKey: `purchase:${p.purchaseId}` },
    );
    return { kind: "intent", paymentIntent: pi };
  } catch (e) {
    if (e instanceof Stripe.errors.StripeCardError) {
      const raw = e.raw as { payment_intent?: Stripe.PaymentIntent } | undefined;
      return { kind: "declined", paymentIntent: raw?.payment_intent ?? e.payment_intent ?? null, code: e.decline_code ?? e.code ?? "card_declined", message: e.message };
    }
    throw e;
  }
}
