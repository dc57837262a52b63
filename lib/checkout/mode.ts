// Which checkout a payment starts with: the embedded form (default) or a hosted Stripe Checkout
// Session, chosen per deployment by CHECKOUT_MODE. Pure rules, no I/O.
// A dev or preview deployment (demo data, test keys only) may also take the other mode for one
// page view (`?checkout=hosted|embedded`), which is how the end-to-end tests drive both paths on
// one server; production never does: there the configured mode is the only one, and the hosted
// actions are refused unless it is "hosted".
import type { Deployment } from "../deployment";

export type CheckoutMode = "embedded" | "hosted";

/** The mode a page renders with: the configured one, or a dev/preview request's override. */
export function resolveCheckoutMode(configured: CheckoutMode, deployment: Deployment, requested: unknown): CheckoutMode {
  if (deployment === "production") return configured;
  return requested === "hosted" || requested === "embedded" ? requested : configured;
}

/** Whether the hosted-checkout actions may start a Checkout Session in this deployment. */
export function hostedCheckoutAllowed(configured: CheckoutMode, deployment: Deployment): boolean {
  return configured === "hosted" || deployment !== "production";
}
