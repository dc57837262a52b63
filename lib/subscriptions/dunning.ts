// Dunning: a renewal payment failed. The subscription mirror (lib/subscriptions/sync.ts) starts a
// grace period when Stripe reports the subscription past_due or unpaid (SUBSCRIPTION_GRACE_DAYS,
// default 7) and enqueues the grace-end job in the same transaction; campaigns keep running on
// their credits meanwhile. The job (applyGraceEnd) re-reads the subscription from Stripe under the
// row lock and, if it is still unpaid after the grace end, pauses the organisation's campaigns
// with reason billing — idempotent (only active or credit-paused campaigns change), safe with
// several instances (row lock). When the subscription is paid up — or ends — the billing pause
// is lifted in the transaction that sees it: billing-paused campaigns go back to "paused for
// credits" and those the balance covers resume at once (the usual rule).
import { and, eq, or, sql } from "drizzle-orm";
import type { Db, Tx } from "@/db/client";
import { campaigns, subscriptions } from "@/db/schema";
import { resumeCampaignsCoveredBy } from "../campaigns/service";
import { lockBalance } from "../ledger/ledger";
import { enqueue } from "../jobs/queue";
import { log } from "../log";
import { serverEnv } from "../env";
import { graceEnd, isDelinquent } from "./rules";

export function graceDays(): number {
  return serverEnv().SUBSCRIPTION_GRACE_DAYS;
}

/** Starts a delinquency's grace period (once) and schedules its end. */
export async function startGracePeriod(tx: Tx, rowId: string, now = new Date()): Promise<Date> {
  const ends = graceEnd(now, graceDays());
  const [row] = await tx
    .update(subscriptions)
    .set({ pastDueSince: now, graceEndsAt: ends, updatedAt: sql`now()` })
    .where(and(eq(subscriptions.id, rowId), sql`${subscriptions.pastDueSince} IS NULL`))
    .returning({ graceEndsAt: subscriptions.graceEndsAt });
  if (!row) return ends;
  await enqueue(tx, "subscriptions.grace-end", { subscriptionId: rowId }, { singletonKey: `grace-end:${rowId}`, startAfter: ends });
  log.warn({ subscriptionId: rowId, graceEndsAt: ends.toISOString() }, "subscription past due: grace period started");
  return row.graceEndsAt!;
}

/** Paid up (or ended): clears the delinquency and lifts a billing pause. */
export async function endDelinquency(tx: Tx, row: { id: string; orgId: string }): Promise<string[]> {
  await tx.update(subscriptions).set({ pastDueSince: null, graceEndsAt: null, updatedAt: sql`now()` }).where(eq(subscriptions.id, row.id));
  return liftBillingPause(tx, row.orgId);
}

export async function pauseForBilling(tx: Tx, orgId: string): Promise<number> {
  // The organisation first, as a delivery batch (which then locks campaigns one by one) takes it:
  // updating several campaigns without it could deadlock with one.
  await lockBalance(tx, orgId);
  const paused = await tx
    .update(campaigns)
    .set({ status: "paused", pauseReason: "billing", pausedAt: sql`coalesce(${campaigns.pausedAt}, now())`, updatedAt: sql`now()` })
    .where(
      and(
        eq(campaigns.orgId, orgId),
        or(eq(campaigns.status, "active"), and(eq(campaigns.status, "paused"), eq(campaigns.pauseReason, "insufficient_credits"))),
      ),
    )
    .returning({ id: campaigns.id });
  return paused.length;
}

export async function liftBillingPause(tx: Tx, orgId: string): Promise<string[]> {
  const org = await lockBalance(tx, orgId); // as pauseForBilling, and the balance under the lock
  const lifted = await tx
    .update(campaigns)
    .set({ pauseReason: "insufficient_credits", updatedAt: sql`now()` })
    .where(and(eq(campaigns.orgId, orgId), eq(campaigns.status, "paused"), eq(campaigns.pauseReason, "billing")))
    .returning({ id: campaigns.id });
  if (lifted.length === 0) return [];
  return resumeCampaignsCoveredBy(tx, orgId, org!.balance);
}

export type GraceEndResult = { outcome: "paused"; campaigns: number } | { outcome: "skipped"; reason: string };

/**
 * The grace-end job. `sync` re-reads the subscription from Stripe under the row lock first (a
 * payment may have landed with its webhook still on the way).
 */
export async function applyGraceEnd(
  db: Db,
  subscriptionId: string,
  sync: (tx: Tx, stripeSubscriptionId: string) => Promise<unknown>,
  now = new Date(),
): Promise<GraceEndResult> {
  return db.transaction(async (tx) => {
    const [row] = await tx.select().from(subscriptions).where(eq(subscriptions.id, subscriptionId)).for("update");
    if (!row?.stripeSubscriptionId) return { outcome: "skipped", reason: "no such subscription" };
    await sync(tx, row.stripeSubscriptionId);
    const [cur] = await tx.select().from(subscriptions).where(eq(subscriptions.id, subscriptionId));
    if (!cur || !isDelinquent(cur.status) || !cur.graceEndsAt) return { outcome: "skipped", reason: `subscription is ${cur?.status}` };
    if (cur.graceEndsAt > now) return { outcome: "skipped", reason: "grace period not over" };
    const count = await pauseForBilling(tx, cur.orgId);
    log.warn({ subscriptionId, orgId: cur.orgId, campaigns: count }, "grace period over: campaigns paused for billing");
    return { outcome: "paused", campaigns: count };
  });
}
