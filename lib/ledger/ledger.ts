// The only code that writes credit_entries and organizations.balance. Each function needs a
// transaction handle so the entry, the cached balance and whatever caused them commit together.
import { and, eq, gte, sql } from "drizzle-orm";
import type { Tx } from "@/db/client";
import { creditEntries, organizations, type CreditEntry, type CreditEntryKind } from "@/db/schema";

export type EntryRefs = {
  purchaseId?: string | null;
  campaignId?: string | null;
  deliveryId?: string | null;
  actorUserId?: string | null;
};

export type GrantInput = EntryRefs & {
  orgId: string;
  amount: number;
  kind: Exclude<CreditEntryKind, "usage">;
  idempotencyKey: string;
  description: string;
};

/**
 * Adds credits (or a reversal, when negative) exactly once per idempotency key. The organisation
 * row is locked first, so the existence check and the insert cannot interleave with another
 * transaction writing the same key.
 */
export async function grantCredits(tx: Tx, input: GrantInput): Promise<{ entry: CreditEntry; created: boolean }> {
  if (!Number.isSafeInteger(input.amount) || input.amount === 0) throw new RangeError("credit amount must be a non-zero integer");
  const [org] = await tx
    .select({ balance: organizations.balance })
    .from(organizations)
    .where(eq(organizations.id, input.orgId))
    .for("update");
  if (!org) throw new Error(`organisation ${input.orgId} not found`);

  const [existing] = await tx.select().from(creditEntries).where(eq(creditEntries.idempotencyKey, input.idempotencyKey));
  if (existing) return { entry: existing, created: false };

  const balanceAfter = org.balance + input.amount;
  const entry = await insertEntry(tx, input, input.kind, input.amount, balanceAfter);
  await tx.update(organizations).set({ balance: balanceAfter }).where(eq(organizations.id, input.orgId));
  return { entry, created: true };
}

export type DebitInput = EntryRefs & {
  orgId: string;
  credits: number;
  idempotencyKey: string;
  description: string;
};

/**
 * Spends credits with one guarded UPDATE (no read-then-write): the balance can never go below
 * zero, however many debits run at once. Returns null when the balance cannot cover it.
 */
export async function debitCredits(tx: Tx, input: DebitInput): Promise<CreditEntry | null> {
  if (!Number.isSafeInteger(input.credits) || input.credits <= 0) throw new RangeError("debit must be a positive integer");
  const [row] = await tx
    .update(organizations)
    .set({ balance: sql`${organizations.balance} - ${input.credits}` })
    .where(and(eq(organizations.id, input.orgId), gte(organizations.balance, input.credits)))
    .returning({ balance: organizations.balance });
  if (!row) return null;
  return insertEntry(tx, input, "usage", -input.credits, row.balance);
}

async function insertEntry(
  tx: Tx,
  input: EntryRefs & { orgId: string; idempotencyKey: string; description: string },
  kind: CreditEntryKind,
  amount: number,
  balanceAfter: number,
): Promise<CreditEntry> {
  const [entry] = await tx
    .insert(creditEntries)
    .values({
      orgId: input.orgId,
      kind,
      amount,
      balanceAfter,
      idempotencyKey: input.idempotencyKey,
      description: input.description,
      purchaseId: input.purchaseId ?? null,
      campaignId: input.campaignId ?? null,
      deliveryId: input.deliveryId ?? null,
      actorUserId: input.actorUserId ?? null,
    })
    .returning();
  return entry!;
}
