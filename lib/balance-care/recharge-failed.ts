// An auto-recharge payment failed (declined off-session, authentication required, a late
// failure, or Stripe refusing the off-session request itself, e.g. the saved card is gone):
// auto-recharge turns itself off — a card that failed is not charged again by itself —
// and the admins get a notification saying why. Called in the transaction that marks the purchase
// failed — by settlement (lib/topups/settle.ts), or by the job when no PaymentIntent was made
// (lib/balance-care/auto-recharge.ts) — so it happens exactly once per purchase.
import { eq, sql } from "drizzle-orm";
import type { Tx } from "@/db/client";
import { balanceSettings, notifications, type Purchase } from "@/db/schema";
import { log } from "../log";
import { recordAudit } from "../audit/audit";

export async function autoRechargeFailed(
  tx: Tx,
  purchase: Pick<Purchase, "id" | "orgId">,
  failure: {
    code: string;
    message: string;
    /** false: no card decision (Stripe refused the request, or our pack is off sale), so not "declined". */
    declined?: boolean;
    /** What an admin must do first; by default a card, since the card is what failed. */
    remedy?: string;
  },
): Promise<void> {
  const what = failure.declined === false ? "could not be made" : "was declined";
  const remedy = failure.remedy ?? "saves a card";
  const reason = `The automatic top-up ${what} (${failure.message.replace(/\.$/, "")}). Auto-recharge is off until an admin ${remedy} and turns it on again.`;
  await tx
    .update(balanceSettings)
    .set({ autoRechargeEnabled: false, autoRechargeDisabledReason: reason, updatedAt: sql`now()` })
    .where(eq(balanceSettings.orgId, purchase.orgId));
  await tx
    .insert(notifications)
    .values({ orgId: purchase.orgId, kind: "auto_recharge_failed", causeKey: `auto_recharge_failed:${purchase.id}`, message: reason, data: { purchaseId: purchase.id, code: failure.code } })
    .onConflictDoNothing();
  await recordAudit(tx, { actorUserId: null, action: "autorecharge.disabled", target: { type: "organization", id: purchase.orgId }, orgId: purchase.orgId, details: { purchaseId: purchase.id, code: failure.code } });
  log.warn({ event: "auto_recharge_failed", orgId: purchase.orgId, purchaseId: purchase.id, code: failure.code }, "auto-recharge payment failed; auto-recharge turned off");
}
