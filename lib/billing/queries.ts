// Read models for the billing and campaign pages.
import { asc, desc, eq, sql } from "drizzle-orm";
import type { DbOrTx } from "@/db/client";
import { campaigns, creditPacks, organizations } from "@/db/schema";

export async function orgBalance(db: DbOrTx, orgId: string): Promise<number> {
  const [row] = await db.select({ balance: organizations.balance }).from(organizations).where(eq(organizations.id, orgId));
  return row?.balance ?? 0;
}

export async function campaignCounts(db: DbOrTx, orgId: string) {
  const [row] = await db
    .select({
      total: sql<number>`count(*)::int`,
      active: sql<number>`count(*) filter (where ${campaigns.status} = 'active')::int`,
      pausedForCredits: sql<number>`count(*) filter (where ${campaigns.status} = 'paused' and ${campaigns.pauseReason} = 'insufficient_credits')::int`,
    })
    .from(campaigns)
    .where(eq(campaigns.orgId, orgId));
  return row!;
}

export async function listCampaigns(db: DbOrTx, orgId: string) {
  return db
    .select()
    .from(campaigns)
    .where(eq(campaigns.orgId, orgId))
    .orderBy(sql`case ${campaigns.status} when 'paused' then 0 when 'active' then 1 when 'approved' then 2 when 'draft' then 3 else 4 end`, desc(campaigns.updatedAt));
}

export async function listActivePacks(db: DbOrTx) {
  return db.select().from(creditPacks).where(eq(creditPacks.active, true)).orderBy(asc(creditPacks.sortOrder), asc(creditPacks.amount));
}

