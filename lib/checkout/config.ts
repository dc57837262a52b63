// The checkout mode of this process (CHECKOUT_MODE, lib/env.ts) and its deployment, applied
// through the pure rules in ./mode.ts; and the app's public URL for Stripe's return links.
import "server-only";
import { serverEnv } from "../env";
import { deploymentOf } from "../deployment";
import { AppError } from "../errors";
import { hostedCheckoutAllowed, resolveCheckoutMode, type CheckoutMode } from "./mode";

/** The mode a page renders with (`requested`: the page's `checkout` query value, dev/preview only). */
export function checkoutModeFor(requested?: unknown): CheckoutMode {
  return resolveCheckoutMode(serverEnv().CHECKOUT_MODE, deploymentOf(process.env), requested);
}

/** Refuses the hosted-checkout actions where this deployment does not offer them. */
export function requireHostedCheckout(): void {
  if (!hostedCheckoutAllowed(serverEnv().CHECKOUT_MODE, deploymentOf(process.env))) {
    throw new AppError("not_found", "Hosted checkout is not enabled here.");
  }
}

export function appUrl(): string {
  return serverEnv().NEXTAUTH_URL ?? "http://localhost:3000";
}
