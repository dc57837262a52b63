// Read models for platform staff: every organisation's balance against its ledger, and the
// webhook event log.
import { desc, sql } from "drizzle-orm";
import type { DbOrTx } from "@/db/client";
import { stripeEvents } from "@/db/schema";

export async function organisationsWithLedger(db: DbOrTx) {
  return db.execute<{ id: string; slug: string; name: string; balance: number; ledger_sum: number; entries: number }>(sql`
    select o.id, o.slug, o.name, o.balance, coalesce(sum(e.amount), 0)::int as ledger_sum, count(e.id)::int as entries
    from organizations o left join credit_entries e on e.org_id = o.id
    group by o.id order by o.name`);
}

export async function recentWebhookEvents(db: DbOrTx, limit = 50) {
  return db
    .select({
      id: stripeEvents.id,
      type: stripeEvents.type,
      receivedAt: stripeEvents.receivedAt,
      processedAt: stripeEvents.processedAt,
      attempts: stripeEvents.attempts,
      lastError: stripeEvents.lastError,
    })
    .from(stripeEvents)
    .orderBy(desc(stripeEvents.receivedAt))
    .limit(limit);
}
