// Campaign state changes that depend on credits: resume after a grant, pause when a delivery
// cannot be paid. Both run inside the caller's transaction.
import { and, eq, inArray, sql } from "drizzle-orm";
import type { Db, Tx } from "@/db/client";
import { campaigns, deliveries } from "@/db/schema";
import { AppError } from "../errors";
import { debitCredits } from "../ledger/ledger";
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
    .for("update")
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

export type DeliveryResult =
  | { outcome: "delivered"; deliveryId: string; balanceAfter: number }
  | { outcome: "paused"; reason: "insufficient_credits" };

/**
 * Records one delivery of an active campaign and pays for it. When the balance cannot cover it
 * the campaign pauses for insufficient credits instead, and nothing is debited.
 */
export async function recordDelivery(db: Db, campaignId: string): Promise<DeliveryResult> {
  return db.transaction(async (tx) => {
    const [campaign] = await tx.select().from(campaigns).where(eq(campaigns.id, campaignId)).for("update");
    if (!campaign) throw new AppError("not_found", "Campaign not found.");
    if (campaign.status !== "active") throw new AppError("conflict", `Campaign is ${campaign.status}, not active.`);
    const deliveryId = crypto.randomUUID();
    const [delivery] = await tx
      .insert(deliveries)
      .values({ id: deliveryId, campaignId, orgId: campaign.orgId, credits: campaign.costPerDelivery })
      .returning();
    const entry = await debitCredits(tx, {
      orgId: campaign.orgId,
      credits: campaign.costPerDelivery,
      idempotencyKey: `delivery:${delivery!.id}`,
      description: `Delivery for ${campaign.name}`,
      campaignId,
      deliveryId,
    });
    if (!entry) {
      await tx.delete(deliveries).where(eq(deliveries.id, deliveryId));
      await tx
        .update(campaigns)
        .set({ status: "paused", pauseReason: "insufficient_credits", pausedAt: sql`now()`, updatedAt: sql`now()` })
        .where(eq(campaigns.id, campaignId));
      return { outcome: "paused", reason: "insufficient_credits" };
    }
    await tx
      .update(campaigns)
      .set({ deliveriesCount: sql`${campaigns.deliveriesCount} + 1`, updatedAt: sql`now()` })
      .where(eq(campaigns.id, campaignId));
    return { outcome: "delivered", deliveryId, balanceAfter: entry.balanceAfter };
  });
}
