// Campaign state changes that depend on credits: resume after a grant (inside the caller's
// transaction). Deliveries and the pause when one cannot be paid: lib/deliveries/service.ts.
import { inArray, sql } from "drizzle-orm";
import type { Tx } from "@/db/client";
import { campaigns } from "@/db/schema";
import { campaignsToResume, type PausedCampaign } from "./rules";

/** Resume the organisation's campaigns paused for credits that `balance` now covers. */
export async function resumeCampaignsCoveredBy(tx: Tx, orgId: string, balance: number): Promise<string[]> {
  return resumeCovered(tx, await lockCampaignsPausedForCredits(tx, orgId), balance);
}

/**
 * The organisation's campaigns paused for insufficient credits, locked. Split from the resume so
 * a grant can send it in the same round trip as its ledger statement (pipelined, after it), and
 * the organisation's row lock is not held across one more round trip.
 */
export function lockCampaignsPausedForCredits(tx: Tx, orgId: string): Promise<PausedCampaign[]> {
  // NO KEY UPDATE (what the UPDATE in resumeCovered takes anyway): waits for a delivery changing
  // the campaign, not for the key share lock a delivery row's foreign key holds while that
  // delivery waits for this transaction's organisation lock (FOR UPDATE would deadlock with it).
  // A template, not a builder (the webhook's hot path: db/raw.ts), sent now, in the caller's
  // order (see settle.ts).
  return tx
    .execute<{ id: string; cost_per_delivery: number; paused_at: string | null }>(sql`
    select id, cost_per_delivery, paused_at from campaigns
    where org_id = ${orgId}::uuid and status = 'paused' and pause_reason = 'insufficient_credits'
    for no key update`)
    .execute()
    .then((rows) =>
      rows.map((r) => ({ id: r.id, costPerDelivery: r.cost_per_delivery, pausedAt: r.paused_at === null ? null : (campaigns.pausedAt.mapFromDriverValue(r.paused_at) as Date) })),
    );
}

/** Resumes those of `paused` (locked by lockCampaignsPausedForCredits) that `balance` covers. */
export async function resumeCovered(tx: Tx, paused: PausedCampaign[], balance: number): Promise<string[]> {
  const ids = campaignsToResume(balance, paused);
  if (ids.length > 0) {
    await tx
      .update(campaigns)
      .set({ status: "active", pauseReason: null, pausedAt: null, updatedAt: sql`now()` })
      .where(inArray(campaigns.id, ids));
  }
  return ids;
}
