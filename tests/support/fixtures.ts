// Small builders for integration tests: organisations with users, packs, coupons, campaigns.
import { eq, sql } from "drizzle-orm";
import type { Db } from "@/db/client";
import { campaigns, coupons, creditEntries, creditPacks, memberships, organizations, purchases, users } from "@/db/schema";
import type { SessionUser } from "@/lib/auth/access";

let n = 0;
const uniq = () => `${Date.now().toString(36)}${(n++).toString(36)}`;

export async function makeOrg(db: Db, slug = `org-${uniq()}`) {
  const [org] = await db.insert(organizations).values({ slug, name: `Org ${slug}` }).returning();
  return org!;
}

export async function makeUser(db: Db, opts: { orgId?: string; role?: "member" | "admin"; isStaff?: boolean } = {}): Promise<SessionUser> {
  const email = `u-${uniq()}@example.test`;
  const [u] = await db.insert(users).values({ email, name: email, passwordHash: "x", isStaff: opts.isStaff ?? false }).returning();
  if (opts.orgId) await db.insert(memberships).values({ userId: u!.id, orgId: opts.orgId, role: opts.role ?? "member" });
  return { id: u!.id, email, name: email, isStaff: u!.isStaff };
}

export async function makePack(db: Db, opts: { credits?: number; amount?: number } = {}) {
  const [p] = await db
    .insert(creditPacks)
    .values({ slug: `pack-${uniq()}`, name: "Starter", credits: opts.credits ?? 500, amount: opts.amount ?? 4900 })
    .returning();
  return p!;
}

export async function makeCoupon(db: Db, values: Partial<typeof coupons.$inferInsert> = {}) {
  const [c] = await db
    .insert(coupons)
    .values({ code: `C${uniq().toUpperCase()}`, description: "test coupon", percentOff: 20, ...values })
    .returning();
  return c!;
}

export async function makePausedCampaign(db: Db, orgId: string, cost = 100, name = `Campaign ${uniq()}`) {
  const [c] = await db
    .insert(campaigns)
    .values({ orgId, name, status: "paused", pauseReason: "insufficient_credits", costPerDelivery: cost, pausedAt: new Date() })
    .returning();
  return c!;
}

/** Everything the invariant tests look at, for one organisation. */
export async function snapshot(db: Db, orgId: string) {
  const [org] = await db.select().from(organizations).where(eq(organizations.id, orgId));
  const entries = await db.select().from(creditEntries).where(eq(creditEntries.orgId, orgId)).orderBy(creditEntries.id);
  const orgPurchases = await db.select().from(purchases).where(eq(purchases.orgId, orgId));
  const orgCampaigns = await db.select().from(campaigns).where(eq(campaigns.orgId, orgId));
  const [sum] = await db
    .select({ s: sql<number>`coalesce(sum(${creditEntries.amount}), 0)::int` })
    .from(creditEntries)
    .where(eq(creditEntries.orgId, orgId));
  return { balance: org!.balance, ledgerSum: sum!.s, entries, purchases: orgPurchases, campaigns: orgCampaigns };
}
