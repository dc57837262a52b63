// What a debit means for balance care, run in the debit's own transaction with the entry it
// wrote: before = balance_after + cost is exact (the organisation row is locked by the debit), so
// one debit, and only one, crosses a threshold on the way down. A low-balance crossing records a
// notification (unique per crossing entry); an auto-recharge crossing enqueues one job (stately
// queue, singleton per organisation: a second crossing while one is still queued joins it; the job
// re-reads everything before paying).
import type { Tx } from "@/db/client";
import { notifications, type BalanceSettings, type CreditEntry } from "@/db/schema";
import { enqueue } from "../jobs/queue";
import { log } from "../log";
import { formatCredits } from "../money/money";
import { depletionForecast } from "./queries";
import { crossedBelow, forecastSentence } from "./rules";

export async function afterDebit(
  tx: Tx,
  p: { orgId: string; entry: Pick<CreditEntry, "id" | "balanceAfter">; credits: number; settings: BalanceSettings | null },
): Promise<{ lowBalance: boolean; autoRecharge: boolean }> {
  const s = p.settings;
  if (!s) return { lowBalance: false, autoRecharge: false };
  const after = p.entry.balanceAfter;
  const before = after + p.credits;
  const lowBalance = crossedBelow(before, after, s.lowBalanceThreshold);
  const autoRecharge = s.autoRechargeEnabled && crossedBelow(before, after, s.autoRechargeThreshold);
  if (lowBalance) {
    const days = await depletionForecast(tx, p.orgId, after);
    await tx
      .insert(notifications)
      .values({
        orgId: p.orgId,
        kind: "low_balance",
        causeKey: `low_balance:${p.entry.id}`,
        message: `The balance fell below ${formatCredits(s.lowBalanceThreshold!)} credits (${formatCredits(after)} left). ${forecastSentence(days, after)}`,
        data: { threshold: s.lowBalanceThreshold, balance: after, forecastDays: days, entryId: p.entry.id },
      })
      .onConflictDoNothing();
    log.info({ event: "low_balance", orgId: p.orgId, entryId: p.entry.id, balance: after }, "balance crossed the low-balance threshold");
  }
  if (autoRecharge) {
    await enqueue(tx, "balance.auto-recharge", { orgId: p.orgId, crossingEntryId: p.entry.id }, { singletonKey: `auto-recharge:${p.orgId}` });
    log.info({ event: "auto_recharge_triggered", orgId: p.orgId, entryId: p.entry.id, balance: after }, "auto-recharge threshold crossed");
  }
  return { lowBalance, autoRecharge };
}
