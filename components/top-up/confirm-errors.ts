// What an error from Stripe.js confirmPayment means for the checkout (Elements). Only a card
// decline or a failed authentication is a known "no": the checkout is over and the next try is a
// new purchase. A validation error means nothing was sent: the same checkout can try again.
// Anything else (network, API, rate limit, an unexpected type) leaves the outcome unknown: the
// payment may have gone through, so the person goes to the settling page of the same purchase.
export type ConfirmErrorKind = "retry_same" | "declined" | "unknown";

export function classifyConfirmError(error: { type?: string; code?: string }): ConfirmErrorKind {
  if (error.type === "validation_error") return "retry_same";
  if (error.type === "card_error") return "declined";
  if (error.code === "payment_intent_authentication_failure") return "declined";
  return "unknown";
}
