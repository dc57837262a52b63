// Saved cards for off-session payments: a SetupIntent (usage off_session) confirmed server-side
// with one of Stripe's test payment methods (the local test-card form; also works against real
// Stripe in test mode), and the off-session PaymentIntent an auto-recharge makes with the saved
// card (off_session + confirm). Idempotency keys come from our own ids: setup:<request id>,
// purchase:<purchase id>.
import "server-only";
import Stripe from "stripe";
import { stripe } from "./client";

export { SETUP_TEST_CARDS, SETUP_TEST_PAYMENT_METHODS, type SetupTestCard } from "./setup-test-cards";
import type { SetupTestCard } from "./setup-test-cards";

export type SavedCard = { paymentMethodId: string; brand: string | null; last4: string | null };

export type SetupOutcome = { kind: "saved"; card: SavedCard } | { kind: "refused"; message: string };

export async function saveCardWithTestPaymentMethod(p: { customerId: string; orgId: string; requestId: string; paymentMethod: SetupTestCard }): Promise<SetupOutcome> {
  const si = await stripe().setupIntents.create(
    { customer: p.customerId, usage: "off_session", automatic_payment_methods: { enabled: true, allow_redirects: "never" }, metadata: { org_id: p.orgId } },
    { idempotencyKey: `setup:${p.requestId}` },
  );
  let confirmed: Stripe.SetupIntent;
  try {
    confirmed = await stripe().setupIntents.confirm(si.id, { payment_method: p.paymentMethod }, { idempotencyKey: `setup:${p.requestId}:confirm` });
  } catch (e) {
    if (e instanceof Stripe.errors.StripeCardError) return { kind: "refused", message: e.message };
    throw e;
  }
  if (confirmed.status !== "succeeded" || !confirmed.payment_method) {
    return { kind: "refused", message: confirmed.status === "requires_action" ? "This card needs authentication, which the test form cannot do. Choose another card." : "The card could not be saved." };
  }
  const pmId = typeof confirmed.payment_method === "string" ? confirmed.payment_method : confirmed.payment_method.id;
  const pm = await stripe().paymentMethods.retrieve(pmId);
  return { kind: "saved", card: { paymentMethodId: pm.id, brand: pm.card?.brand ?? null, last4: pm.card?.last4 ?? null } };
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
