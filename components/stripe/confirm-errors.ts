// What an error from Stripe.js confirmPayment / confirmSetup means (Elements). Only a card
// decline or a failed authentication is a known "no" (for a payment the checkout is over and the
// next try is a new purchase; for a card setup the same SetupIntent may try another card). A
// validation error means nothing was sent: the same form can try again. Anything else (network,
// API, rate limit, an unexpected type) leaves the outcome unknown: it may have gone through, so
// the server asks Stripe (the settling page of the purchase, the card setup's verification).
export type ConfirmErrorKind = "retry_same" | "declined" | "unknown";

const AUTHENTICATION_FAILURES = new Set(["payment_intent_authentication_failure", "setup_intent_authentication_failure"]);

export function classifyConfirmError(error: { type?: string; code?: string }): ConfirmErrorKind {
  if (error.type === "validation_error") return "retry_same";
  if (error.type === "card_error") return "declined";
  if (error.code && AUTHENTICATION_FAILURES.has(error.code)) return "declined";
  return "unknown";
}
