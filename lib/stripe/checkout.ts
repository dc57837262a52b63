// Checkout Session calls (the hosted checkout path). Every create carries an idempotency key
// derived from our own row (purchase:<id>:checkout, subscription:<row id>:checkout), so a
// retried action gets the same session back instead of a second one. The metadata names our row
// on the session and on what it creates (the PaymentIntent, the subscription), which is how the
// webhook finds the purchase or subscription row it finalises. Parameters are a function of the
// row only (no clock-derived expires_at), so a retry with the key replays instead of failing.
import "server-only";
import Stripe from "stripe";
import type { PlanStart } from "./billing";
import { stripe } from "./client";

export type { Stripe };

export async function createPackCheckoutSession(p: {
  purchaseId: string;
  orgId: string;
  customerId: string;
  amount: number;
  currency: string;
  name: string;
  successUrl: string;
  cancelUrl: string;
}): Promise<Stripe.Checkout.Session> {
  const meta = { purchase_id: p.purchaseId, org_id: p.orgId };
  return stripe().checkout.sessions.create(
    {
      mode: "payment",
      customer: p.customerId,
      client_reference_id: p.purchaseId,
      line_items: [{ quantity: 1, price_data: { currency: p.currency, unit_amount: p.amount, product_data: { name: p.name } } }],
      // Not purchase_id on the intent: a card declined on Stripe's page leaves the session open for
      // another try, so the intent's own failure events must not close the purchase (settlement
      // finds a purchase by purchase_id whatever the intent's state, by checkout_purchase_id only
      // for a success). The purchase is linked when the session completes.
      payment_intent_data: { metadata: { checkout_purchase_id: p.purchaseId, org_id: p.orgId } },
      metadata: meta,
      success_url: p.successUrl,
      cancel_url: p.cancelUrl,
    },
    { idempotencyKey: `purchase:${p.purchaseId}:checkout` },
  );
}

export async function createPlanCheckoutSession(p: PlanStart & { successUrl: string; cancelUrl: string }): Promise<Stripe.Checkout.Session> {
  const meta = { subscription_row_id: p.rowId, org_id: p.orgId };
  return stripe().checkout.sessions.create(
    {
      mode: "subscription",
      customer: p.customerId,
      client_reference_id: p.rowId,
      line_items: [{ price: p.priceId, quantity: 1 }, ...(p.overagePriceId ? [{ price: p.overagePriceId }] : [])],
      subscription_data: { metadata: meta, ...(p.trialDays > 0 ? { trial_period_days: p.trialDays } : {}) },
      metadata: meta,
      success_url: p.successUrl,
      cancel_url: p.cancelUrl,
    },
    { idempotencyKey: `subscription:${p.rowId}:checkout` },
  );
}

/** Expires an open session; returns it as it is now (complete or expired sessions unchanged). */
export async function expireCheckoutSession(id: string): Promise<Stripe.Checkout.Session> {
  const now = await stripe().checkout.sessions.retrieve(id);
  if (now.status !== "open") return now;
  try {
    return await stripe().checkout.sessions.expire(id, {}, { idempotencyKey: `checkout:${id}:expire` });
  } catch (e) {
    if (e instanceof Stripe.errors.StripeInvalidRequestError) return stripe().checkout.sessions.retrieve(id);
    throw e;
  }
}
