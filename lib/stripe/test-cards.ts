// Stripe's test payment methods offered by the test-card form. They work against the local
// emulator and against real Stripe in test mode alike.
export const TEST_CARDS = [
  { paymentMethod: "pm_card_visa", number: "4242 4242 4242 4242", label: "Visa — payment succeeds" },
  { paymentMethod: "pm_card_visa_chargeDeclined", number: "4000 0000 0000 0002", label: "Declined card" },
  {
    paymentMethod: "pm_card_visa_chargeDeclinedInsufficientFunds",
    number: "4000 0000 0000 9995",
    label: "Insufficient funds",
  },
  {
    paymentMethod: "pm_card_authenticationRequired",
    number: "4000 0027 6000 3184",
    label: "3-D Secure authentication required",
  },
] as const;

export type TestPaymentMethod = (typeof TEST_CARDS)[number]["paymentMethod"];

export const TEST_PAYMENT_METHODS = TEST_CARDS.map((c) => c.paymentMethod) as [TestPaymentMethod, ...TestPaymentMethod[]];
