import type Stripe from "stripe";
import type { Tx } from "@/db/client";
import { syncSubscription } from "../../subscriptions/sync";
import type { HandlerResult } from "./types";

type ScheduleEvent =
  | Stripe.SubscriptionScheduleUpdatedEvent
  | Stripe.SubscriptionScheduleReleasedEvent
  | Stripe.SubscriptionScheduleCompletedEvent
  | Stripe.SubscriptionScheduleCanceledEvent;

/** subscription_schedule.*: a change at period end was scheduled, applied or undone — re-sync its subscription. */
export async function onSubscriptionScheduleChanged(tx: Tx, event: ScheduleEvent): Promise<HandlerResult> {
  const schedule = event.data.object;
  const subId = typeof schedule.subscription === "string" ? schedule.subscription : schedule.subscription?.id;
  const released = schedule.released_subscription;
  const id = subId ?? (typeof released === "string" ? released : null);
  if (!id) return { detail: "schedule without a subscription" };
  const result = await syncSubscription(tx, id);
  return { detail: result ? `subscription ${result.row.id} scheduled ${result.row.scheduledPlanKey ?? "nothing"}` : "not our subscription" };
}
