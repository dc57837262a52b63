// Read side of the ledger: keyset-paginated history and the balance invariant check.
import { and, desc, eq, lt, sql } from "drizzle-orm";
import type { DbOrTx } from "@/db/client";
import { creditEntries, creditEntryKind, organizations, type CreditEntryKind } from "@/db/schema";

export const ENTRY_KINDS = creditEntryKind.enumValues;

export function isEntryKind(value: unknown): value is CreditEntryKind {
  return typeof value === "string" && (ENTRY_KINDS as readonly string[]).includes(value);
}

export async function listEntries(
  db: DbOrTx,
  params: { orgId: string; kind?: CreditEntryKind; before?: number; limit?: number },
) {
  const limit = Math.min(Math.max(params.limit ?? 25, 1), 100);
  const rows = await db
    .select()
    .from(creditEntries)
    .where(
      and(
        eq(creditEntries.orgId, params.orgId),
        params.kind ? eq(creditEntries.kind, params.kind) : undefined,
        params.before ? lt(creditEntries.id, params.before) : undefined,
      ),
    )
    .orderBy(desc(creditEntries.id))
    .limit(limit + 1);
  const page = rows.slice(0, limit);
  const nextCursor = rows.length > limit ? page[page.length - 1]!.id : null;
  return { entries: page, nextCursor };
}

/** Organisations whose cached balance differs from the sum of their ledger. Empty when healthy. */
export async function findBalanceMismatches(db: DbOrTx) {
  return db
    .select({
      orgId: organizations.id,
      balance: organizations.balance,
      ledgerSum: sql<number>`coalesce((select sum(${creditEntries.amount}) from ${creditEntries} where ${creditEntries.orgId} = ${organizations.id}), 0)::int`,
    })
    .from(organizations)
    .where(
      sql`${organizations.balance} <> coalesce((select sum(${creditEntries.amount}) from ${creditEntries} where ${creditEntries.orgId} = ${organizations.id}), 0)`,
    );
}
