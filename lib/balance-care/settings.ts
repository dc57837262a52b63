// Admins' balance-care settings: the low-balance threshold, the saved card (SetupIntent) and
// auto-recharge (threshold + pack). One row per organisation, upserted.
import { and, eq, sql } from "drizzle-orm";
import type { Db, DbOrTx } from "@/db/client";
import { balanceSettings, creditPacks, type BalanceSettings, type Organization } from "@/db/schema";
import { AppError } from "../errors";
import { log } from "../log";
import { recordAudit } from "../audit/audit";
import { ensureStripeCustomer } from "../stripe/customers";
import { saveCardWithTestPaymentMethod, type SetupTestCard } from "../stripe/saved-cards";

async function upsert(db: DbOrTx, orgId: string, values: Partial<typeof balanceSettings.$inferInsert>): Promise<BalanceSettings> {
  const [row] = await db
    .insert(balanceSettings)
    .values({ orgId, ...values })
    .onConflictDoUpdate({ target: balanceSettings.orgId, set: { ...values, updatedAt: sql`now()` } })
    .returning();
  return row!;
}

export async function setLowBalanceThreshold(db: Db, p: { orgId: string; threshold: number | null; userId?: string | null }): Promise<BalanceSettings> {
  return db.transaction(async (tx) => {
    const row = await upsert(tx, p.orgId, { lowBalanceThreshold: p.threshold });
    await recordAudit(tx, { actorUserId: p.userId ?? null, action: "balance.low_threshold", target: { type: "organization", id: p.orgId }, orgId: p.orgId, details: { threshold: p.threshold } });
    return row;
  });
}

export async function saveCard(
  db: Db,
  p: { org: Pick<Organization, "id" | "name" | "slug">; userId: string; requestId: string; paymentMethod: SetupTestCard },
): Promise<BalanceSettings> {
  const customerId = await ensureStripeCustomer(db, p.org);
  const outcome = await saveCardWithTestPaymentMethod({ customerId, orgId: p.org.id, requestId: p.requestId, paymentMethod: p.paymentMethod });
  if (outcome.kind === "refused") throw new AppError("payment_declined", outcome.message);
  log.info({ event: "card_saved", orgId: p.org.id, userId: p.userId, paymentMethodId: outcome.card.paymentMethodId }, "card saved for off-session payments");
  return db.transaction(async (tx) => {
    const row = await upsert(tx, p.org.id, {
      paymentMethodId: outcome.card.paymentMethodId,
      cardBrand: outcome.card.brand,
      cardLast4: outcome.card.last4,
      cardSavedByUserId: p.userId,
      autoRechargeDisabledReason: null,
    });
    await recordAudit(tx, { actorUserId: p.userId, action: "card.save", target: { type: "organization", id: p.org.id }, orgId: p.org.id, details: { paymentMethodId: outcome.card.paymentMethodId, brand: outcome.card.brand, last4: outcome.card.last4 } });
    return row;
  });
}

export async function setAutoRecharge(db: Db, p: { orgId: string; enabled: boolean; threshold: number; packId: string; userId?: string | null }): Promise<BalanceSettings> {
  return db.transaction(async (tx) => {
    const [pack] = await tx.select({ id: creditPacks.id }).from(creditPacks).where(and(eq(creditPacks.id, p.packId), eq(creditPacks.active, true)));
    if (!pack) throw new AppError("not_found", "That credit pack is no longer available.");
    const [current] = await tx.select().from(balanceSettings).where(eq(balanceSettings.orgId, p.orgId)).for("update");
    if (p.enabled && !current?.paymentMethodId) throw new AppError("conflict", "Save a card before turning auto-recharge on.");
    const values = {
      autoRechargeEnabled: p.enabled,
      autoRechargeThreshold: p.threshold,
      autoRechargePackId: p.packId,
      ...(p.enabled ? { autoRechargeDisabledReason: null } : {}),
    };
    // An UPDATE of the locked row: an upsert's insert candidate (no card) would fail the
    // "enabled needs a card" check before the conflict is even considered.
    const row = current
      ? (await tx.update(balanceSettings).set({ ...values, updatedAt: sql`now()` }).where(eq(balanceSettings.orgId, p.orgId)).returning())[0]!
      : await upsert(tx, p.orgId, values);
    await recordAudit(tx, { actorUserId: p.userId ?? null, action: "autorecharge.set", target: { type: "organization", id: p.orgId }, orgId: p.orgId, details: { enabled: p.enabled, threshold: p.threshold, packId: p.packId } });
    return row;
  });
}
