// checkout.session.completed and checkout.session.async_payment_succeeded (the hosted checkout
// path): record the purchase or the subscription through the same idempotent finalisation as the
// embedded path — never a second grant path.
// - payment mode (a pack): the purchase named by our metadata (or client_reference_id) gets the
//   session's PaymentIntent through the guarded link — also when the purchase was closed unlinked
//   meanwhile (reclaimed as abandoned after HOLD_TTL_MS while Stripe's page stayed open: the
//   customer paid, so it is granted as a late success) — then the intent is re-fetched and settled
//   by settleFromPaymentIntent (grant keyed purchase:<id>, so this event, its duplicate and the
//   intent's own payment_intent.succeeded grant once). An async payment still processing waits.
// - subscription mode (a plan): the subscription is re-fetched; its paid first invoice goes through
//   applyPaidInvoice (mirror sync + grant keyed invoice:<in_…>, as invoice.paid does), otherwise
//   the mirror is synced (syncSubscription finds our row by subscription_data.metadata).
import type Stripe from "stripe";
import type { Tx } from "@/db/client";
import { applyPaidInvoice } from "../../subscriptions/grants";
import { syncSubscription } from "../../subscriptions/sync";
import { retrieveSubscription } from "../../stripe/billing";
import { retrievePaymentIntent } from "../../stripe/payment-intents";
import { settleFromPaymentIntent } from "../../topups/settle";
import { linkCompletedCheckout } from "../../topups/start";
import { log } from "../../log";
import type { HandlerResult } from "./types";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const idOf = (v: string | { id: string } | null) => (v === null ? null : typeof v === "string" ? v : v.id);

export async function onCheckoutSessionCompleted(
  tx: Tx,
  event: Stripe.CheckoutSessionCompletedEvent | Stripe.CheckoutSessionAsyncPaymentSucceededEvent,
): Promise<HandlerResult> {
  const session = event.data.object;
  if (session.mode === "payment") return settlePack(tx, session);
  if (session.mode === "subscription") return settlePlan(tx, session);
  return { detail: `checkout session in ${session.mode} mode: nothing to do` };
}

async function settlePack(tx: Tx, session: Stripe.Checkout.Session): Promise<HandlerResult> {
  const purchaseId = session.metadata?.purchase_id ?? session.client_reference_id;
  const paymentIntentId = idOf(session.payment_intent);
  if (!purchaseId || !UUID.test(purchaseId) || !paymentIntentId) return { detail: "not a top-up checkout of ours" };
  const linked = await linkCompletedCheckout(tx, purchaseId, paymentIntentId);
  const pi = await retrievePaymentIntent(paymentIntentId);
  const result = await settleFromPaymentIntent(tx, pi);
  if (!result) {
    // Linked to another intent (the request id was reused on the embedded form): reconciliation lists it.
    log.error({ purchaseId, paymentIntentId, checkoutSessionId: session.id }, "checkout payment for a purchase linked to another PaymentIntent: nothing granted");
    return { detail: `purchase ${purchaseId} is linked to another PaymentIntent` };
  }
  const state = result.changed ? result.purchase.status : `already ${result.purchase.status}`;
  return { detail: `purchase ${result.purchase.id} ${state} (intent ${pi.status}${linked ? ", linked" : ""})` };
}

async function settlePlan(tx: Tx, session: Stripe.Checkout.Session): Promise<HandlerResult> {
  const subscriptionId = idOf(session.subscription);
  if (!subscriptionId) return { detail: "checkout session has no subscription" };
  const sub = await retrieveSubscription(subscriptionId);
  const invoice = sub.latest_invoice;
  if (invoice && typeof invoice !== "string" && invoice.status === "paid") {
    const result = await applyPaidInvoice(tx, invoice);
    return { detail: result.detail };
  }
  const synced = await syncSubscription(tx, subscriptionId);
  return { detail: synced ? `subscription ${synced.row.id} ${synced.row.status}` : "not our subscription" };
}
