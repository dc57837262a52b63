// Read models for balance care: settings, recent spending (forecast), daily credits in and out
// (the usage chart), per-campaign spend, recent notifications, and why the newest attempt to save
// a card failed.
import { and, desc, eq, gt, gte, isNotNull, sql } from "drizzle-orm";
import type { DbOrTx } from "@/db/client";
import { balanceSettings, cardSetups, creditDailyTotals, creditPacks, notifications, type BalanceSettings } from "@/db/schema";
import { depletionForecastDays, FORECAST_WINDOW_DAYS } from "./rules";

export async function getBalanceSettings(db: DbOrTx, orgId: string): Promise<BalanceSettings | null> {
  const [row] = await db.select().from(balanceSettings).where(eq(balanceSettings.orgId, orgId));
  return row ?? null;
}

// The spending reads below come from credit_daily_totals (db/schema/ledger.ts), which the ledger
// keeps in the statement that appends each entry: their cost follows days × campaigns, not the
// number of entries (an organisation with 1,000,000 entries renders its overview as fast as one
// with 1,000; npm run bench). Days are UTC days.

/** Credits spent (usage entries) over the last `days` UTC days, today included. */
export async function spentInLastDays(db: DbOrTx, orgId: string, days: number = FORECAST_WINDOW_DAYS): Promise<number> {
  const [row] = await db
    .select({ spent: sql<number>`coalesce(sum(${creditDailyTotals.usageOut}), 0)::int` })
    .from(creditDailyTotals)
    .where(and(eq(creditDailyTotals.orgId, orgId), gte(creditDailyTotals.day, sql`(now() AT TIME ZONE 'UTC')::date - ${days - 1}::int`)));
  return row?.spent ?? 0;
}

export async function depletionForecast(db: DbOrTx, orgId: string, balance: number): Promise<number | null> {
  return depletionForecastDays(balance, await spentInLastDays(db, orgId));
}

export type DailyUsage = { day: string; creditsIn: number; creditsOut: number };

/** Credits in and out per UTC day over the last `days` days, every day present (zeros included). */
export async function dailyUsage(db: DbOrTx, orgId: string, days = 30): Promise<DailyUsage[]> {
  const rows = await db.execute<{ day: string; credits_in: number; credits_out: number }>(sql`
    SELECT to_char(d.day, 'YYYY-MM-DD') AS day,
           coalesce(sum(t.credits_in), 0)::int AS credits_in,
           coalesce(sum(t.credits_out), 0)::int AS credits_out
    FROM generate_series((now() AT TIME ZONE 'UTC')::date - ${days - 1}::int, (now() AT TIME ZONE 'UTC')::date, interval '1 day') AS d(day)
    LEFT JOIN ${creditDailyTotals} t ON t.org_id = ${orgId} AND t.day = d.day::date
    GROUP BY d.day
    ORDER BY d.day`);
  return rows.map((r) => ({ day: r.day, creditsIn: r.credits_in, creditsOut: r.credits_out }));
}

/** Credits spent per campaign (all time and the last 7 UTC days, today included). */
export async function campaignSpend(db: DbOrTx, orgId: string): Promise<Map<string, { total: number; last7Days: number }>> {
  const rows = await db
    .select({
      campaignId: creditDailyTotals.campaignId,
      total: sql<number>`coalesce(sum(${creditDailyTotals.usageOut}), 0)::int`,
      last7Days: sql<number>`coalesce(sum(${creditDailyTotals.usageOut}) FILTER (WHERE ${creditDailyTotals.day} >= (now() AT TIME ZONE 'UTC')::date - 6), 0)::int`,
    })
    .from(creditDailyTotals)
    .where(and(eq(creditDailyTotals.orgId, orgId), isNotNull(creditDailyTotals.campaignId), gt(creditDailyTotals.usageOut, 0)))
    .groupBy(creditDailyTotals.campaignId);
  return new Map(rows.map((r) => [r.campaignId!, { total: r.total, last7Days: r.last7Days }]));
}

export async function recentNotifications(db: DbOrTx, orgId: string, limit = 5) {
  return db.select().from(notifications).where(eq(notifications.orgId, orgId)).orderBy(desc(notifications.createdAt)).limit(limit);
}

export async function autoRechargePack(db: DbOrTx, packId: string | null) {
  if (!packId) return null;
  const [pack] = await db.select().from(creditPacks).where(eq(creditPacks.id, packId));
  return pack ?? null;
}


/** Why the newest card-saving attempt failed, when it is newer than the saved card (else null). */
export async function latestCardSetupFailure(db: DbOrTx, orgId: string, currentCardSetupId: number | null): Promise<string | null> {
  const [latest] = await db.select().from(cardSetups).where(eq(cardSetups.orgId, orgId)).orderBy(desc(cardSetups.id)).limit(1);
  if (!latest || latest.status !== "failed") return null;
  if (currentCardSetupId !== null && latest.id < currentCardSetupId) return null;
  return latest.failureMessage ?? "The card could not be saved.";
}
