// Read side of the ledger: keyset-paginated history and the balance invariant check.
import { and, desc, eq, lt, sql } from "drizzle-orm";
import type { DbOrTx } from "@/db/client";
import { creditEntries, creditEntryKind, type CreditEntryKind } from "@/db/schema";

export const ENTRY_KINDS = creditEntryKind.enumValues;

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
export async function findBalanceMismatches(db: DbOrTx): Promise<{ orgId: string; balance: number; ledgerSum: number }[]> {
  const rows = await db.execute<{ org_id: string; balance: number; ledger_sum: number }>(sql`
    select o.id as org_id, o.balance, coalesce(sum(e.amount), 0)::int as ledger_sum
    from organizations o left join credit_entries e on e.org_id = o.id
    group by o.id, o.balance
    having o.balance <> coalesce(sum(e.amount), 0)`);
  return rows.map((r) => ({ orgId: r.org_id, balance: r.balance, ledgerSum: r.ledger_sum }));
}
