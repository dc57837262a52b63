// The subscription mirror: the one place a subscriptions row takes Stripe's state. Every writer
// (webhook handlers of customer.subscription.* and invoice.*, the settling page, plan changes,
// the grace-end job) calls syncSubscription, which LOCKS the row first and THEN re-fetches the
// subscription from Stripe: whoever holds the lock reads Stripe's state as of now, so an older
// event arriving after a newer one — or two handlers racing — can never move the mirror back.
// Side effects of a state change happen here, in the caller's transaction: a delinquency starts
// its grace period (and the grace-end job), a paid-up or ended subscription lifts a billing pause.
import { eq, sql } from "drizzle-orm";
import type Stripe from "stripe";
import type { DbOrTx, Tx } from "@/db/client";
import { subscriptions, type Subscription } from "@/db/schema";
import { priceByLookupKey } from "../plans/catalogue";
import { lookupKeyForPrice } from "../plans/sync";
import { meteredItem, planItem, retrieveSubscription } from "../stripe/billing";
import { log } from "../log";
import { endDelinquency, startGracePeriod } from "./dunning";
import { isDelinquent } from "./rules";

const ts = (s: number | null | undefined) => (s ? new Date(s * 1000) : null);

async function lockByStripeId(tx: Tx, stripeSubscriptionId: string): Promise<Subscription | undefined> {
  const [row] = await tx.select().from(subscriptions).where(eq(subscriptions.stripeSubscriptionId, stripeSubscriptionId)).for("update");
  return row;
}

async function lockByRowId(tx: Tx, rowId: string): Promise<Subscription | undefined> {
  if (!/^[0-9a-f-]{36}$/i.test(rowId)) return undefined;
  const [row] = await tx.select().from(subscriptions).where(eq(subscriptions.id, rowId)).for("update");
  return row;
}

export type SyncResult = { row: Subscription; subscription: Stripe.Subscription; resumedCampaignIds: string[] };

/**
 * Locks our row of this Stripe subscription, re-fetches the subscription and writes the mirror.
 * Returns null for subscriptions that are not ours. `fetched` may pass a subscription retrieved
 * AFTER the lock was taken by the caller (it must not be an event's copy).
 */
export async function syncSubscription(tx: Tx, stripeSubscriptionId: string): Promise<SyncResult | null> {
  let row = await lockByStripeId(tx, stripeSubscriptionId);
  let sub = await retrieveSubscription(stripeSubscriptionId);
  if (!row) {
    // Our create call may not have written the id yet: find the row by our metadata, if it is
    // not linked to another subscription, then read Stripe again now that we hold its lock.
    const candidate = await lockByRowId(tx, sub.metadata?.subscription_row_id ?? "");
    if (!candidate || (candidate.stripeSubscriptionId && candidate.stripeSubscriptionId !== sub.id)) return null;
    row = candidate;
    sub = await retrieveSubscription(stripeSubscriptionId);
  }
  return writeMirror(tx, row, sub);
}

/** Writes a subscription retrieved while holding `row`'s lock. */
export async function writeMirror(tx: Tx, row: Subscription, sub: Stripe.Subscription): Promise<SyncResult> {
  // The plan's item; a metered overage item (lib/usage/) may sit beside it.
  const item = planItem(sub);
  const lookupKey = item?.price.lookup_key ?? (item ? await lookupKeyForPrice(tx, item.price.id) : null);
  const known = lookupKey ? priceByLookupKey(lookupKey) : undefined;
  const scheduled = await scheduledChange(tx, sub);
  const [updated] = await tx
    .update(subscriptions)
    .set({
      stripeSubscriptionId: sub.id,
      status: sub.status,
      planKey: known?.plan.key ?? row.planKey,
      interval: known?.price.interval ?? row.interval,
      stripePriceId: item?.price.id ?? row.stripePriceId,
      stripeMeteredItemId: meteredItem(sub)?.id ?? null,
      currentPeriodStart: ts(item?.current_period_start),
      currentPeriodEnd: ts(item?.current_period_end),
      trialEnd: ts(sub.trial_end),
      cancelAtPeriodEnd: sub.cancel_at_period_end || sub.cancel_at !== null,
      stripeScheduleId: scheduled?.scheduleId ?? null,
      scheduledPlanKey: scheduled?.planKey ?? null,
      scheduledInterval: scheduled?.interval ?? null,
      scheduledAt: scheduled ? ts(scheduled.at) : null,
      endedAt: ts(sub.ended_at),
      syncedAt: sql`now()`,
      updatedAt: sql`now()`,
    })
    .where(eq(subscriptions.id, row.id))
    .returning();
  const current = updated!;
  let resumedCampaignIds: string[] = [];
  if (isDelinquent(current.status) && !current.pastDueSince) {
    await startGracePeriod(tx, current.id);
  } else if (!isDelinquent(current.status) && current.pastDueSince && current.status !== "creating") {
    resumedCampaignIds = await endDelinquency(tx, current);
  }
  if (row.status !== current.status) log.info({ subscriptionId: row.id, stripeSubscriptionId: sub.id, from: row.status, to: current.status }, "subscription status changed");
  const [latest] = await tx.select().from(subscriptions).where(eq(subscriptions.id, row.id));
  return { row: latest!, subscription: sub, resumedCampaignIds };
}

/** The change a subscription schedule will apply at the next phase, if any. */
async function scheduledChange(db: DbOrTx, sub: Stripe.Subscription): Promise<{ scheduleId: string; planKey: string; interval: "month" | "year"; at: number } | null> {
  const schedule = sub.schedule;
  if (!schedule || typeof schedule === "string") return null;
  if (schedule.status !== "active" && schedule.status !== "not_started") return null;
  const periodEnd = planItem(sub)?.current_period_end ?? 0;
  const next = schedule.phases.find((p) => p.start_date >= periodEnd);
  const price = next?.items[0]?.price;
  if (!next || !price) return null;
  const priceId = typeof price === "string" ? price : price.id;
  const lookupKey = await lookupKeyForPrice(db, priceId);
  const known = lookupKey ? priceByLookupKey(lookupKey) : undefined;
  if (!known) return null;
  return { scheduleId: schedule.id, planKey: known.plan.key, interval: known.price.interval, at: next.start_date };
}
