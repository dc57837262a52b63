// Read models for balance care: settings, recent spending (forecast), daily credits in and out
// (the usage chart), per-campaign spend, and recent notifications.
import { and, desc, eq, gte, sql } from "drizzle-orm";
import type { DbOrTx } from "@/db/client";
import { balanceSettings, campaigns, creditEntries, creditPacks, notifications, type BalanceSettings } from "@/db/schema";
import { depletionForecastDays, FORECAST_WINDOW_DAYS } from "./rules";

export async function getBalanceSettings(db: DbOrTx, orgId: string): Promise<BalanceSettings | null> {
  const [row] = await db.select().from(balanceSettings).where(eq(balanceSettings.orgId, orgId));
  return row ?? null;
}

/** Credits spent (usage entries) in the last `days` days. */
export async function spentInLastDays(db: DbOrTx, orgId: string, days: number = FORECAST_WINDOW_DAYS): Promise<number> {
  const [row] = await db
    .select({ spent: sql<number>`coalesce(-sum(${creditEntries.amount}), 0)::int` })
    .from(creditEntries)
    .where(and(eq(creditEntries.orgId, orgId), eq(creditEntries.kind, "usage"), gte(creditEntries.createdAt, sql`now() - make_interval(days => ${days})`)));
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
           coalesce(sum(e.amount) FILTER (WHERE e.amount > 0), 0)::int AS credits_in,
           coalesce(-sum(e.amount) FILTER (WHERE e.amount < 0), 0)::int AS credits_out
    FROM generate_series((now() AT TIME ZONE 'UTC')::date - ${days - 1}::int, (now() AT TIME ZONE 'UTC')::date, interval '1 day') AS d(day)
    LEFT JOIN ${creditEntries} e
      ON e.org_id = ${orgId}
     AND e.created_at >= d.day AT TIME ZONE 'UTC'
     AND e.created_at < (d.day + interval '1 day') AT TIME ZONE 'UTC'
    GROUP BY d.day
    ORDER BY d.day`);
  return rows.map((r) => ({ day: r.day, creditsIn: r.credits_in, creditsOut: r.credits_out }));
}

/** Credits spent per campaign (all time and the last 7 days), from the ledger's usage entries. */
export async function campaignSpend(db: DbOrTx, orgId: string): Promise<Map<string, { total: number; last7Days: number }>> {
  const rows = await db
    .select({
      campaignId: creditEntries.campaignId,
      total: sql<number>`coalesce(-sum(${creditEntries.amount}), 0)::int`,
      last7Days: sql<number>`coalesce(-sum(${creditEntries.amount}) FILTER (WHERE ${creditEntries.createdAt} >= now() - interval '7 days'), 0)::int`,
    })
    .from(creditEntries)
    .innerJoin(campaigns, eq(campaigns.id, creditEntries.campaignId))
    .where(and(eq(creditEntries.orgId, orgId), eq(creditEntries.kind, "usage")))
    .groupBy(creditEntries.campaignId);
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

