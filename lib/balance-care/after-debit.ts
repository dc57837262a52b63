// What an entry that takes credits away means for balance care, run in the entry's own
// transaction with the entry it wrote: before = balance_after - amount is exact (the entry's
// statement locked the organisation row), so one entry, and only one, crosses a threshold on the
// way down; the next crossing needs the balance to have gone back up first (re-armed by a grant).
// A low-balance crossing records a notification (unique per crossing entry); an auto-recharge
// crossing enqueues one job (stately queue, singleton per organisation: a second crossing while
// one is still queued joins it; the job re-reads everything before paying).
//
// Which entries: deliveries (afterDebit), and every other negative entry (afterBalanceDrop):
// staff corrections, expiry, refund reversals and disputes. Auto-recharge follows the entries
// where credits are gone as if spent (usage, corrections, expiry); a refund or a dispute records
// the notification but never starts an off-session charge by itself: the money went back to the
// customer, so buying again at once would undo a refund or repeat a charged-back payment.
import type { Tx } from "@/db/client";
import { notifications, type BalanceSettings, type CreditEntry } from "@/db/schema";
import { enqueue } from "../jobs/queue";
import { log } from "../log";
import { formatCredits } from "../money/money";
import { depletionForecast, getBalanceSettings } from "./queries";
import { crossedBelow, forecastSentence } from "./rules";

type Drop = { lowBalance: boolean; autoRecharge: boolean };

export async function afterDebit(
  tx: Tx,
  p: { orgId: string; entry: Pick<CreditEntry, "id" | "balanceAfter">; credits: number; settings: BalanceSettings | null },
): Promise<Drop> {
  return balanceDropped(tx, { orgId: p.orgId, entryId: p.entry.id, before: p.entry.balanceAfter + p.credits, after: p.entry.balanceAfter, settings: p.settings, autoRecharge: true });
}

/**
 * A negative entry other than a delivery (correction, expiry, refund reversal, dispute), written
 * in `tx` just before. Call it only when the entry was created (a replayed key wrote nothing).
 */
export async function afterBalanceDrop(
  tx: Tx,
  p: { orgId: string; entry: Pick<CreditEntry, "id" | "amount" | "balanceAfter">; autoRecharge: boolean },
): Promise<Drop> {
  if (p.entry.amount >= 0) return { lowBalance: false, autoRecharge: false };
  const settings = await getBalanceSettings(tx, p.orgId);
  return balanceDropped(tx, { orgId: p.orgId, entryId: p.entry.id, before: p.entry.balanceAfter - p.entry.amount, after: p.entry.balanceAfter, settings, autoRecharge: p.autoRecharge });
}

async function balanceDropped(
  tx: Tx,
  p: { orgId: string; entryId: number; before: number; after: number; settings: BalanceSettings | null; autoRecharge: boolean },
): Promise<Drop> {
  const s = p.settings;
  if (!s) return { lowBalance: false, autoRecharge: false };
  const { before, after } = p;
  const lowBalance = crossedBelow(before, after, s.lowBalanceThreshold);
  const autoRecharge = p.autoRecharge && s.autoRechargeEnabled && crossedBelow(before, after, s.autoRechargeThreshold);
  if (lowBalance) {
    const days = await depletionForecast(tx, p.orgId, after);
    await tx
      .insert(notifications)
      .values({
        orgId: p.orgId,
        kind: "low_balance",
        causeKey: `low_balance:${p.entryId}`,
        message: `The balance fell below ${formatCredits(s.lowBalanceThreshold!)} credits (${formatCredits(after)} left). ${forecastSentence(days, after)}`,
        data: { threshold: s.lowBalanceThreshold, balance: after, forecastDays: days, entryId: p.entryId },
      })
      .onConflictDoNothing();
    log.info({ event: "low_balance", orgId: p.orgId, entryId: p.entryId, balance: after }, "balance crossed the low-balance threshold");
  }
  if (autoRecharge) {
    await enqueue(tx, "balance.auto-recharge", { orgId: p.orgId, crossingEntryId: p.entryId }, { singletonKey: `auto-recharge:${p.orgId}` });
    log.info({ event: "auto_recharge_triggered", orgId: p.orgId, entryId: p.entryId, balance: after }, "auto-recharge threshold crossed");
  }
  return { lowBalance, autoRecharge };
}
