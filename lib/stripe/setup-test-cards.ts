// Stripe's test payment methods offered when saving a card for auto-recharge (client-safe
// constants; lib/stripe/saved-cards.ts uses them on the server). They work against the local
// emulator and against real Stripe in test mode alike.
export const SETUP_TEST_CARDS = [
  { paymentMethod: "pm_card_visa", number: "4242 4242 4242 4242", label: "Visa — charges succeed" },
  { paymentMethod: "pm_card_chargeCustomerFail", number: "4000 0000 0000 0341", label: "Saves, then every charge is declined" },
  { paymentMethod: "pm_card_visa_chargeDeclined", number: "4000 0000 0000 0002", label: "Declined when saving" },
] as const;
export type SetupTestCard = (typeof SETUP_TEST_CARDS)[number]["paymentMethod"];
export const SETUP_TEST_PAYMENT_METHODS = SETUP_TEST_CARDS.map((c) => c.paymentMethod) as [SetupTestCard, ...SetupTestCard[]];
