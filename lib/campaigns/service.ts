// Campaign state changes that depend on credits: resume after a grant (inside the caller's
// transaction). Deliveries and the pause when one cannot be paid: lib/deliveries/service.ts.
import { and, eq, inArray, sql } from "drizzle-orm";
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
  return tx
    .select({ id: campaigns.id, costPerDelivery: campaigns.costPerDelivery, pausedAt: campaigns.pausedAt })
    .from(campaigns)
    .where(and(eq(campaigns.orgId, orgId), eq(campaigns.status, "paused"), eq(campaigns.pauseReason, "insufficient_credits")))
    // NO KEY UPDATE (what the UPDATE in resumeCovered takes anyway): waits for a delivery changing
    // the campaign, not for the key share lock a delivery row's foreign key holds while that
    // delivery waits for this transaction's organisation lock (FOR UPDATE would deadlock with it).
    .for("no key update")
    .execute(); // sent now, in the caller's order (see settle.ts)
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
