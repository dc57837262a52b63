import type Stripe from "stripe";
import type { Tx } from "@/db/client";
import { syncSubscription } from "../../subscriptions/sync";
import type { HandlerResult } from "./types";

type SubscriptionEvent =
  | Stripe.CustomerSubscriptionCreatedEvent
  | Stripe.CustomerSubscriptionUpdatedEvent
  | Stripe.CustomerSubscriptionDeletedEvent
  | Stripe.CustomerSubscriptionPendingUpdateAppliedEvent
  | Stripe.CustomerSubscriptionPendingUpdateExpiredEvent;

/**
 * customer.subscription.*: the event only says "look again". The mirror is re-read from Stripe
 * under the row lock (lib/subscriptions/sync.ts), so events in any order converge on Stripe's
 * current state; `deleted` ends the plan (no more grants; credits stay).
 */
export async function onSubscriptionChanged(tx: Tx, event: SubscriptionEvent): Promise<HandlerResult> {
  const result = await syncSubscription(tx, event.data.object.id);
  if (!result) return { detail: "not our subscription" };
  const said = event.data.object.status;
  return { detail: `subscription ${result.row.id} ${result.row.status}${said !== result.row.status ? ` (event said ${said})` : ""}` };
}
