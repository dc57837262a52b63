// The allow-list of event types we act on, one small handler each.
import type Stripe from "stripe";
import type { Handler } from "./types";
import { onPaymentIntentSucceeded } from "./payment-intent-succeeded";
import { onPaymentIntentPaymentFailed } from "./payment-intent-payment-failed";
import { onPaymentIntentCanceled } from "./payment-intent-canceled";
import { onChargeRefunded } from "./charge-refunded";
import { onChargeDispute } from "./charge-dispute";
import { onSubscriptionChanged } from "./subscription-changed";
import { onSubscriptionScheduleChanged } from "./subscription-schedule-changed";
import { onInvoicePaid } from "./invoice-paid";
import { onInvoicePaymentFailed } from "./invoice-payment-failed";
import { onCheckoutSessionCompleted } from "./checkout-session-completed";
import { onSetupIntentChanged } from "./setup-intent";

export type { Handler, HandlerResult } from "./types";

type HandlerMap = { [T in Stripe.Event["type"]]?: Handler<Extract<Stripe.Event, { type: T }>> };

export const handlers: HandlerMap = {
  "payment_intent.succeeded": onPaymentIntentSucceeded,
  "payment_intent.payment_failed": onPaymentIntentPaymentFailed,
  "payment_intent.canceled": onPaymentIntentCanceled,
  "charge.refunded": onChargeRefunded,
  "charge.dispute.created": onChargeDispute,
  // An inquiry escalated to a chargeback (lib/refunds/reversal.ts): re-fetched and applied alike.
  "charge.dispute.updated": onChargeDispute,
  "charge.dispute.funds_withdrawn": onChargeDispute,
  "charge.dispute.closed": onChargeDispute,
  // Subscriptions (lib/subscriptions): the README lists these as the events to enable.
  "customer.subscription.created": onSubscriptionChanged,
  "customer.subscription.updated": onSubscriptionChanged,
  "customer.subscription.deleted": onSubscriptionChanged,
  "customer.subscription.pending_update_applied": onSubscriptionChanged,
  "customer.subscription.pending_update_expired": onSubscriptionChanged,
  "subscription_schedule.updated": onSubscriptionScheduleChanged,
  "subscription_schedule.released": onSubscriptionScheduleChanged,
  "subscription_schedule.completed": onSubscriptionScheduleChanged,
  "subscription_schedule.canceled": onSubscriptionScheduleChanged,
  "invoice.paid": onInvoicePaid,
  "invoice.payment_failed": onInvoicePaymentFailed,
  // The hosted checkout path (CHECKOUT_MODE=hosted): the same finalisation as the embedded one.
  "checkout.session.completed": onCheckoutSessionCompleted,
  "checkout.session.async_payment_succeeded": onCheckoutSessionCompleted,
  // Saving a card for auto-recharge (lib/balance-care/card-setup.ts), as the settings page does.
  "setup_intent.succeeded": onSetupIntentChanged,
  "setup_intent.setup_failed": onSetupIntentChanged,
  "setup_intent.canceled": onSetupIntentChanged,
};

export function handlerFor(event: Stripe.Event): Handler<Stripe.Event> | undefined {
  return handlers[event.type] as Handler<Stripe.Event> | undefined;
}
