// Read side of the ledger: keyset-paginated history and the balance invariant check.
//
// Every page is one descent of the (org_id, id) index — or (org_id, kind, id) with a kind filter
// — from the cursor down, so the first and the last page of an organisation with a million
// entries cost what they cost with a thousand. The organisation (and kind) is matched as a
// one-value range and the rows are ordered by the whole index key on purpose: with a plain
// `org_id = $1 … order by id` the planner treats org_id as a constant and may walk the primary
// key backwards from the cursor instead, filtering out every other organisation's entries on the
// way (an organisation that owns most of the table looks cheap to find that way; its last page
// then reads everything older than it). Only the composite index yields (org_id, kind, id) order.
import { and, desc, gte, inArray, lt, lte, sql } from "drizzle-orm";
import type { DbOrTx } from "@/db/client";
import { creditEntries, creditEntryKind, creditGrants, type CreditEntry, type CreditEntryKind } from "@/db/schema";

/** An expiring grant's state next to its entry (credit_grants), for the transactions list. */
export type EntryExpiry = { expiresAt: Date; expiredAt: Date | null; remaining: number };
export type ListedEntry = CreditEntry & { expiry: EntryExpiry | null };

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
        gte(creditEntries.orgId, params.orgId),
        lte(creditEntries.orgId, params.orgId),
        params.kind ? and(gte(creditEntries.kind, params.kind), lte(creditEntries.kind, params.kind)) : undefined,
        params.before ? lt(creditEntries.id, params.before) : undefined,
      ),
    )
    .orderBy(...(params.kind ? [desc(creditEntries.orgId), desc(creditEntries.kind)] : [desc(creditEntries.orgId)]), desc(creditEntries.id))
    .limit(limit + 1);
  const page = rows.slice(0, limit);
  const nextCursor = rows.length > limit ? page[page.length - 1]!.id : null;
  const grantIds = page.filter((e) => e.amount > 0).map((e) => e.id);
  const buckets = grantIds.length
    ? await db
        .select({ entryId: creditGrants.entryId, expiresAt: creditGrants.expiresAt, expiredAt: creditGrants.expiredAt, remaining: creditGrants.remaining })
        .from(creditGrants)
        .where(inArray(creditGrants.entryId, grantIds))
    : [];
  const byEntry = new Map(buckets.map((b) => [b.entryId, { expiresAt: b.expiresAt, expiredAt: b.expiredAt, remaining: b.remaining }]));
  const entries: ListedEntry[] = page.map((e) => ({ ...e, expiry: byEntry.get(e.id) ?? null }));
  return { entries, nextCursor };
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

/**
 * Day rows of credit_daily_totals that differ from the aggregate of the entries they count (none,
 * by construction: a trigger writes them with the entries). Checked after every integration test.
 */
export async function findDailyTotalMismatches(db: DbOrTx): Promise<{ orgId: string; day: string; campaignId: string | null }[]> {
  const rows = await db.execute<{ org_id: string; day: string; campaign_id: string | null }>(sql`
    with agg as (
      select org_id, (created_at at time zone 'UTC')::date as day, campaign_id,
             coalesce(sum(amount) filter (where amount > 0), 0) as credits_in,
             coalesce(-sum(amount) filter (where amount < 0), 0) as credits_out,
             coalesce(-sum(amount) filter (where kind = 'usage'), 0) as usage_out,
             count(*) as entries
      from credit_entries group by 1, 2, 3
    )
    select coalesce(a.org_id, t.org_id) as org_id, to_char(coalesce(a.day, t.day), 'YYYY-MM-DD') as day, coalesce(a.campaign_id, t.campaign_id) as campaign_id
    from agg a full join credit_daily_totals t
      on t.org_id = a.org_id and t.day = a.day and t.campaign_id is not distinct from a.campaign_id
    where a.org_id is null or t.org_id is null
       or (a.credits_in, a.credits_out, a.usage_out, a.entries) is distinct from (t.credits_in, t.credits_out, t.usage_out, t.entries)`);
  return rows.map((r) => ({ orgId: r.org_id, day: r.day, campaignId: r.campaign_id }));
}

/** Organisations whose expiring_credits differs from what is left in their live buckets. */
export async function findExpiringCreditMismatches(db: DbOrTx): Promise<{ orgId: string; expiringCredits: number; bucketsRemaining: number }[]> {
  const rows = await db.execute<{ org_id: string; expiring_credits: number; remaining: number }>(sql`
    select o.id as org_id, o.expiring_credits, coalesce(sum(g.remaining) filter (where g.expired_at is null), 0)::int as remaining
    from organizations o left join credit_grants g on g.org_id = o.id
    group by o.id, o.expiring_credits
    having o.expiring_credits <> coalesce(sum(g.remaining) filter (where g.expired_at is null), 0)`);
  return rows.map((r) => ({ orgId: r.org_id, expiringCredits: r.expiring_credits, bucketsRemaining: r.remaining }));
}
