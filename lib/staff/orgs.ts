// Staff read models for organisations: search by name or slug, one organisation's detail
// (balance against its ledger, members, purchases with refunds, open disputes), and its billing at
// Stripe: the plan (lib/subscriptions/queries.ts currentPlan) and its last invoices, read from
// Stripe (bounded; a Stripe outage shows as "could not load", never as "no invoices").
import { and, desc, eq, ilike, isNull, or, sql } from "drizzle-orm";
import type { DbOrTx } from "@/db/client";
import { creditPacks, disputes, memberships, organizations, purchases, refunds, users } from "@/db/schema";
import { log } from "../log";
import { listInvoices } from "../stripe/billing";
import { currentPlan, stripeCustomerOf } from "../subscriptions/queries";

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

export type StaffInvoice = {
  id: string;
  number: string | null;
  created: Date;
  total: number;
  amountPaid: number;
  currency: string;
  status: string | null;
  billingReason: string | null;
  url: string | null;
};

/** The organisation's plan and its last `limit` invoices at Stripe (null invoices: Stripe unreachable). */
export async function organisationBilling(db: DbOrTx, orgId: string, limit = 12) {
  const [plan, customerId] = await Promise.all([currentPlan(db, orgId), stripeCustomerOf(db, orgId)]);
  let invoices: StaffInvoice[] | null = [];
  if (customerId) {
    try {
      invoices = (await listInvoices(customerId, limit)).slice(0, limit).map((i) => ({
        id: i.id!,
        number: i.number,
        created: new Date(i.created * 1000),
        total: i.total,
        amountPaid: i.amount_paid,
        currency: i.currency,
        status: i.status,
        billingReason: i.billing_reason,
        url: i.hosted_invoice_url ?? null,
      }));
    } catch (err) {
      log.warn({ err, orgId }, "staff: could not list invoices");
      invoices = null;
    }
  }
  return { plan, customerId, invoices };
}
