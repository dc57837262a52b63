// Staff adjustments of an organisation's credits: a bonus (positive) or a correction (either
// sign), each with a required reason and the acting staff member, written as a NEW ledger entry
// through grantCredits (entries are never edited) plus its audit row, in one transaction.
//
// Decision: a negative correction may not overdraw. The ledger's rule is that only reversals
// (refunds, disputes) may leave a balance below zero; a correction larger than the balance is
// refused (`conflict`) and the staff member corrects by at most the balance. The check and the
// entry run under the organisation's row lock, so a concurrent delivery cannot slip in between.
//
// Balance care: a correction that takes the balance below a threshold records the low-balance
// notification and starts auto-recharge like a delivery would (lib/balance-care/after-debit.ts).
//
// Idempotency: the form sends a request id; the entry's key is `adjustment:<requestId>`, so a
// double submit records one entry (and one audit row: the second call finds the entry and stops).
import { eq } from "drizzle-orm";
import type { Db } from "@/db/client";
import { creditEntries, organizations, type CreditEntry } from "@/db/schema";
import { recordAudit } from "../audit/audit";
import { resumeCampaignsCoveredBy } from "../campaigns/service";
import { AppError } from "../errors";
import { afterBalanceDrop } from "../balance-care/after-debit";
import { grantCredits } from "./ledger";

export type AdjustmentInput = {
  orgId: string;
  kind: "bonus" | "correction";
  amount: number;
  reason: string;
  actorUserId: string;
  requestId: string;
};

export const MAX_ADJUSTMENT = 10_000_000;

export async function adjustCredits(db: Db, input: AdjustmentInput) {
  if (!Number.isSafeInteger(input.amount) || input.amount === 0 || Math.abs(input.amount) > MAX_ADJUSTMENT) {
    throw new AppError("invalid_input", "The amount must be a whole number of credits, not zero.");
  }
  if (input.kind === "bonus" && input.amount < 0) throw new AppError("invalid_input", "A bonus adds credits; use a correction to remove some.");
  const reason = input.reason.trim();
  if (reason.length < 3) throw new AppError("invalid_input", "A reason is required.");
  const idempotencyKey = `adjustment:${input.requestId}`;
  const entryKind = input.kind === "bonus" ? "bonus" : "adjustment";
  const description = `${input.kind === "bonus" ? "Bonus" : "Correction"}: ${reason}`;
  // A repeat must be the same request: an edited one (other amount, kind or reason) would
  // otherwise be answered as if it had been applied.
  const sameRequest = (e: CreditEntry) => {
    if (e.orgId !== input.orgId) throw new AppError("conflict", "This request was already used for another organisation.");
    if (e.amount !== input.amount || e.kind !== entryKind || e.description !== description) {
      throw new AppError("conflict", `This request was already recorded as ${e.description ?? "an adjustment"} (${e.amount} credits). Reload the page to make another.`);
    }
    return { entry: e, created: false };
  };
  return db.transaction(async (tx) => {
    const [org] = await tx.select({ balance: organizations.balance }).from(organizations).where(eq(organizations.id, input.orgId)).for("update");
    if (!org) throw new AppError("not_found", "Organisation not found.");
    const [done] = await tx.select().from(creditEntries).where(eq(creditEntries.idempotencyKey, idempotencyKey));
    if (done) return sameRequest(done);
    if (org.balance + input.amount < 0) {
      throw new AppError("conflict", `A correction may not take the balance below zero (balance ${org.balance}).`);
    }
    const { entry, created } = await grantCredits(tx, {
      orgId: input.orgId,
      amount: input.amount,
      kind: entryKind,
      idempotencyKey,
      description,
      actorUserId: input.actorUserId,
    });
    // The same request id committed meanwhile under another organisation's lock (the unique key
    // answered): nothing was written here, so nothing to audit or resume.
    if (!created) return sameRequest(entry);
    await recordAudit(tx, {
      actorUserId: input.actorUserId,
      action: input.kind === "bonus" ? "credits.bonus" : "credits.correction",
      target: { type: "credit_entry", id: String(entry.id) },
      orgId: input.orgId,
      details: { amount: input.amount, reason, balanceAfter: entry.balanceAfter },
    });
    if (input.amount > 0) await resumeCampaignsCoveredBy(tx, input.orgId, entry.balanceAfter);
    // A correction below the low-balance / auto-recharge threshold is a crossing like a delivery's.
    else await afterBalanceDrop(tx, { orgId: input.orgId, entry, autoRecharge: true });
    return { entry, created };
  });
}
