// What the browser needs to collect a payment: Stripe Elements with a publishable key, or, with
// none configured, a picker of Stripe's test payment methods confirmed on the server.
import "server-only";
import { serverEnv } from "../env";

export type PaymentFormConfig = { kind: "elements"; publishableKey: string } | { kind: "test-cards" };

export function paymentFormConfig(): PaymentFormConfig {
  const key = serverEnv().NEXT_PUBLIC_STRIPE_PUBLISHABLE_KEY;
  return key ? { kind: "elements", publishableKey: key } : { kind: "test-cards" };
}
