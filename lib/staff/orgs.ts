// Staff read models for organisations: search by name or slug, and one organisation's detail
// (balance against its ledger, members, purchases with refunds, open disputes). Plans and invoices
// join here once subscriptions exist.
import { and, desc, eq, ilike, isNull, or, sql } from "drizzle-orm";
import type { DbOrTx } from "@/db/client";
import { creditPacks, disputes, memberships, organizations, purchases, refunds, users } from "@/db/schema";

/** Escapes LIKE wildcards so a search for "50%" means the text "50%". */
function likePattern(q: string): string {
  return `%${q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

export async function searchOrganisations(db: DbOrTx, q: string, limit = 50) {
  const term = q.trim();
  return db
    .select({
      id: organizations.id,
      slug: organizations.slug,
      name: organizations.name,
      balance: organizations.balance,
      openDisputes: sql<number>`(select count(*)::int from ${disputes} d where d.org_id = ${organizations.id} and d.closed_at is null)`,
    })
    .from(organizations)
    .where(term ? or(ilike(organizations.name, likePattern(term)), ilike(organizations.slug, likePattern(term))) : undefined)
    .orderBy(organizations.name)
    .limit(limit);
}

export async function organisationDetail(db: DbOrTx, slug: string) {
  const [org] = await db.select().from(organizations).where(eq(organizations.slug, slug));
  if (!org) return null;
  const [[sum], members, orgPurchases, orgRefunds, openDisputes] = await Promise.all([
    db.execute<{ ledger_sum: number; entries: number }>(sql`select coalesce(sum(amount), 0)::int as ledger_sum, count(*)::int as entries from credit_entries where org_id = ${org.id}`),
    db
      .select({ email: users.email, name: users.name, role: memberships.role })
      .from(memberships)
      .innerJoin(users, eq(users.id, memberships.userId))
      .where(eq(memberships.orgId, org.id))
      .orderBy(users.email),
    db
      .select({ purchase: purchases, packName: creditPacks.name })
      .from(purchases)
      .innerJoin(creditPacks, eq(creditPacks.id, purchases.packId))
      .where(eq(purchases.orgId, org.id))
      .orderBy(desc(purchases.createdAt))
      .limit(50),
    db.select().from(refunds).where(eq(refunds.orgId, org.id)).orderBy(desc(refunds.createdAt)),
    db.select().from(disputes).where(and(eq(disputes.orgId, org.id), isNull(disputes.closedAt))),
  ]);
  return { org, ledgerSum: sum!.ledger_sum, entryCount: sum!.entries, members, purchases: orgPurchases, refunds: orgRefunds, openDisputes };
}
