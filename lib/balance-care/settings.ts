// Admins' balance-care settings: the low-balance threshold, the saved card (SetupIntent; the
// attempts and their ordering live in lib/balance-care/card-setup.ts) and auto-recharge
// (threshold + pack). One row per organisation, upserted.
import { and, eq, sql } from "drizzle-orm";
import type { Db, DbOrTx } from "@/db/client";
import { balanceSettings, creditPacks, type BalanceSettings, type Organization } from "@/db/schema";
import { AppError } from "../errors";
import { recordAudit } from "../audit/audit";
import { confirmSetupWithTestCard, type SetupTestCard } from "../stripe/saved-cards";
import { settleSetupIntent, startCardSetup } from "./card-setup";

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

/**
 * The test-card form (local emulator / Stripe test mode): an attempt and its SetupIntent,
 * confirmed server-side with a test payment method, then applied exactly as the Elements page's
 * verification and the webhooks apply it (lib/balance-care/card-setup.ts).
 */
export async function saveCard(
  db: Db,
  p: { org: Pick<Organization, "id" | "name" | "slug">; userId: string; requestId: string; paymentMethod: SetupTestCard },
): Promise<BalanceSettings> {
  const started = await startCardSetup(db, { org: p.org, userId: p.userId, requestId: p.requestId });
  await confirmSetupWithTestCard({ setupIntentId: started.setupIntentId, requestId: p.requestId, paymentMethod: p.paymentMethod });
  const result = await settleSetupIntent(db, started.setupIntentId, "test_card");
  if (result.status === "failed") throw new AppError("payment_declined", result.message);
  if (result.status === "requires_action") throw new AppError("payment_declined", "This card needs authentication, which the test form cannot do. Choose another card.");
  if (result.status !== "saved" && result.status !== "superseded") throw new AppError("payment_declined", "The card could not be saved.");
  const [row] = await db.select().from(balanceSettings).where(eq(balanceSettings.orgId, p.org.id));
  return row!;
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
