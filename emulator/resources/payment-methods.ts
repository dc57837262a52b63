// Stripe's test payment methods, what confirming with each one does, and the PaymentMethod
// objects made from them. As with Stripe, using a test id such as `pm_card_visa` creates a new
// PaymentMethod (`pm_…`, random) whose card details match; the intent, its charge and its
// last_payment_error refer to that new id, never to the test id.
//
// Emulator-only test ids (Stripe has no card that settles later; these stand in for the
// asynchronous methods such as bank debits, so late and out-of-order events can be tested):
//   pm_card_processing_succeeds  confirm → `processing`; later → `succeeded`
//   pm_card_processing_fails     confirm → `processing`; later → `requires_payment_method`
//                                (payment_failed, card_declined / generic_decline)
// "Later" is State.processingDelaySeconds on the emulator's clock (real time passing, or
// POST /_emulator/clock/advance), or at once with POST /_emulator/payment_intents/:id/settle.
import type Stripe from "stripe";
import { missing } from "../errors";
import { newId } from "../ids";
import { ACCEPTED } from "../params";
import type { Ctx, Route } from "./context";

export type Decline = { kind: "decline"; code: string; declineCode: string; message: string };

export type CardBehaviour = { kind: "succeed" } | Decline | { kind: "authenticate" } | { kind: "processing"; then: { kind: "succeed" } | Decline };

type TestCard = { brand: string; last4: string; behaviour: CardBehaviour };

const declined = (declineCode: string, message: string, code = "card_declined"): Decline => ({ kind: "decline", code, declineCode, message });

export const GENERIC_DECLINE = declined("generic_decline", "Your card was declined.");

export const TEST_CARDS: Record<string, TestCard> = {
  pm_card_visa: { brand: "visa", last4: "4242", behaviour: { kind: "succeed" } },
  pm_card_mastercard: { brand: "mastercard", last4: "4444", behaviour: { kind: "succeed" } },
  pm_card_visa_chargeDeclined: { brand: "visa", last4: "0002", behaviour: GENERIC_DECLINE },
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
  // Attaches to a customer (a subscription's default), then every charge declines: failing renewals.
  pm_card_chargeCustomerFail: { brand: "visa", last4: "0341", behaviour: GENERIC_DECLINE },
  pm_card_processing_succeeds: { brand: "visa", last4: "1111", behaviour: { kind: "processing", then: { kind: "succeed" } } },
  pm_card_processing_fails: { brand: "visa", last4: "1112", behaviour: { kind: "processing", then: GENERIC_DECLINE } },
};

function cardOf(testId: string): TestCard {
  return TEST_CARDS[testId]!;
}

/** A PaymentMethod shaped like the one Stripe makes from a test id (not stored). */
export function paymentMethodObject(id: string, testId: string, created: number): Stripe.PaymentMethod {
  const card = cardOf(testId);
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
      // Stable per card number, as Stripe's fingerprint is: several PaymentMethods, one card.
      fingerprint: testId.replace(/[^A-Za-z0-9]/g, "").slice(-16),
      funding: "credit",
      generated_from: null,
      last4: card.last4,
      networks: { available: [card.brand], preferred: null },
      regulated_status: "unregulated",
      three_d_secure_usage: { supported: true },
      wallet: null,
    },
    created,
    customer: null,
    customer_account: null,
    livemode: false,
    metadata: {},
    type: "card",
  } satisfies Stripe.PaymentMethod;
}

/**
 * Resolves a `payment_method` parameter: a test id creates (and stores) a new PaymentMethod; an
 * id the emulator made is looked up; anything else is resource_missing on `param`.
 */
export function usePaymentMethod(ctx: Ctx, id: string, param = "payment_method"): Stripe.PaymentMethod {
  const s = ctx.store.state;
  if (TEST_CARDS[id]) {
    const pm = paymentMethodObject(newId("pm"), id, ctx.clock.now());
    s.paymentMethods[pm.id] = pm;
    s.paymentMethodSources[pm.id] = id;
    ctx.store.wrote();
    return pm;
  }
  const stored = s.paymentMethods[id];
  if (!stored) throw missing("PaymentMethod", id, param, 400);
  return stored;
}

/** Throws resource_missing unless `id` is a test id or a PaymentMethod the emulator made. */
export function requirePaymentMethod(ctx: Ctx, id: string, param = "payment_method"): void {
  if (!TEST_CARDS[id] && !ctx.store.state.paymentMethods[id]) throw missing("PaymentMethod", id, param, 400);
}

/** What confirming with this (stored) PaymentMethod does. */
export function behaviourOf(ctx: Ctx, pmId: string): CardBehaviour {
  const source = ctx.store.state.paymentMethodSources[pmId];
  return source ? cardOf(source).behaviour : { kind: "succeed" };
}

export function brandAndLast4(pm: Stripe.PaymentMethod): { brand: string; last4: string } {
  return { brand: pm.card?.brand ?? "visa", last4: pm.card?.last4 ?? "4242" };
}

export const paymentMethodRoutes: Route[] = [
  {
    method: "GET",
    pattern: /^\/v1\/payment_methods\/([^/]+)$/,
    accepts: ACCEPTED.paymentMethodRetrieve,
    returns: "payment_method",
    handle: (ctx, m) => {
      const id = m[1]!;
      const stored = ctx.store.state.paymentMethods[id];
      if (stored) return { body: stored };
      // Retrieving a test id shows a PaymentMethod made from it (a new one each time, unsaved).
      if (TEST_CARDS[id]) return { body: paymentMethodObject(newId("pm"), id, ctx.clock.now()) };
      throw missing("PaymentMethod", id);
    },
  },
];
