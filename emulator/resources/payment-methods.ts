// Stripe's test payment methods and what confirming with each one does.
import { newId } from "../ids";
import type { Json } from "../store";

export type CardBehaviour =
  | { kind: "succeed" }
  | { kind: "decline"; code: string; declineCode: string; message: string }
  | { kind: "authenticate" };

type TestCard = { brand: string; last4: string; behaviour: CardBehaviour };

const declined = (declineCode: string, message: string, code = "card_declined"): CardBehaviour => ({ kind: "decline", code, declineCode, message });

export const TEST_CARDS: Record<string, TestCard> = {
  pm_card_visa: { brand: "visa", last4: "4242", behaviour: { kind: "succeed" } },
  pm_card_mastercard: { brand: "mastercard", last4: "4444", behaviour: { kind: "succeed" } },
  pm_card_visa_chargeDeclined: { brand: "visa", last4: "0002", behaviour: declined("generic_decline", "Your card was declined.") },
  pm_card_visa_chargeDeclinedInsufficientFunds: {
    brand: "visa",
    last4: "9995",
    behaviour: declined("insufficient_funds", "Your card has insufficient funds."),
  },
  pm_card_chargeDeclinedExpiredCard: { brand: "visa", last4: "0069", behaviour: declined("expired_card", "Your card has expired.", "expired_card") },
  pm_card_chargeDeclinedIncorrectCvc: {
    brand: "visa",
    last4: "0127",
    behaviour: declined("incorrect_cvc", "Your card's security code is incorrect.", "incorrect_cvc"),
  },
  pm_card_chargeDeclinedProcessingError: {
    brand: "visa",
    last4: "0119",
    behaviour: declined("processing_error", "An error occurred while processing your card. Try again in a little bit.", "processing_error"),
  },
  pm_card_authenticationRequired: { brand: "visa", last4: "3184", behaviour: { kind: "authenticate" } },
};

export function paymentMethodObject(id: string, created: number): Json {
  const card = TEST_CARDS[id]!;
  return {
    id,
    object: "payment_method",
    allow_redisplay: "unspecified",
    billing_details: { address: null, email: null, name: null, phone: null, tax_id: null },
    card: {
      brand: card.brand,
      checks: { address_line1_check: null, address_postal_code_check: null, cvc_check: "pass" },
      country: "US",
      display_brand: card.brand,
      exp_month: 12,
      exp_year: 2034,
      fingerprint: id.replace(/[^A-Za-z0-9]/g, "").slice(-16),
      funding: "credit",
      last4: card.last4,
      networks: { available: [card.brand], preferred: null },
      three_d_secure_usage: { supported: true },
      wallet: null,
    },
    created,
    customer: null,
    livemode: false,
    metadata: {},
    type: "card",
  };
}

export function newChargeId(): string {
  return newId("ch");
}
