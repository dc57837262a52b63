// The hosted checkout path of a top-up: the same pending purchase (and coupon hold) as the embedded
// form (reservePurchase), then a Stripe Checkout Session in payment mode instead of a PaymentIntent
// of ours — idempotency key purchase:<id>:checkout, metadata purchase_id on the session and on the
// PaymentIntent Stripe makes. Nothing is granted here: checkout.session.completed (and
// async_payment_succeeded) link the intent and settle through settleFromPaymentIntent, the one
// finalisation every path uses (lib/webhooks/handlers/checkout-session-completed.ts).
import type { Db } from "@/db/client";
import { AppError } from "../errors";
import { log } from "../log";
import { formatCredits } from "../money/money";
import { createPackCheckoutSession } from "../stripe/checkout";
import { ensureStripeCustomer } from "../stripe/customers";
import { isStripeConnectionError } from "../stripe/payment-intents";
import { reservePurchase, type StartTopUpInput } from "./start";

export type StartedTopUpCheckout = { purchaseId: string; url: string };

export async function startTopUpCheckout(db: Db, input: StartTopUpInput & { appUrl: string }): Promise<StartedTopUpCheckout> {
  const purchase = await reservePurchase(db, input);
  // A purchase already paying through the embedded form (a reused request id) stays there.
  if (purchase.stripePaymentIntentId) throw new AppError("conflict", "This checkout has already started. Start a new top-up to pay again.");
  const base = `${input.appUrl.replace(/\/$/, "")}/orgs/${input.org.slug}/billing`;
  try {
    const customerId = await ensureStripeCustomer(db, input.org);
    const session = await createPackCheckoutSession({
      purchaseId: purchase.id,
      orgId: input.org.id,
      customerId,
      amount: purchase.amount,
      currency: purchase.currency,
      name: `${formatCredits(purchase.credits)} Creditloop credits for ${input.org.name}`,
      successUrl: `${base}/purchases/${purchase.id}?session_id={CHECKOUT_SESSION_ID}`,
      cancelUrl: `${base}/top-up`,
    });
    if (session.status !== "open" || !session.url) throw new AppError("conflict", "This checkout has already finished. Start a new top-up to pay again.");
    log.info({ purchaseId: purchase.id, orgId: input.org.id, checkoutSessionId: session.id }, "top-up checkout session started");
    return { purchaseId: purchase.id, url: session.url };
  } catch (e) {
    if (e instanceof AppError) throw e;
    log.warn({ purchaseId: purchase.id, orgId: input.org.id, err: e }, "top-up checkout session could not be created");
    if (!isStripeConnectionError(e)) throw e;
    // The purchase stays pending (a retry with the same request gets the same session); an
    // abandoned one is closed by the reclaim sweep, and a late payment is still granted.
    throw new AppError("payment_provider_unavailable", "We couldn't reach the payment provider. Please try again in a moment.");
  }
}
