// The webhook's hot path for a paid top-up: the whole settlement of payment_intent.succeeded in
// ONE round trip, by the database function creditloop_settle_paid_topup
// (db/migrations/0014_settle_paid_topup.sql), called as a single statement outside any explicit
// transaction, so it is its own transaction with BEGIN and COMMIT included.
//
// Why a function: the general path (lib/webhooks/process.ts + lib/topups/settle.ts) needs three
// round trips (BEGIN+claim+purchase lock, purchase update+ledger+campaign lock, COMMIT), and on
// two shared cores each round trip costs more than the statements it carries (docs/benchmarks.md).
// In one call the organisation's row lock is held for two statements and the commit.
//
// The function only settles the plain case (no coupon, amount and currency as charged, purchase
// not yet succeeded or under review) and otherwise answers "slow" having written nothing; a race
// found after its claim raises SQLSTATE CL001 and rolls back. Either way the caller falls back to
// the general path, which handles every case with the same effects.
import type Stripe from "stripe";
import { sql } from "drizzle-orm";
import type { Db } from "@/db/client";

export type OneCallSettlement =
  | { outcome: "processed"; purchaseId: string; entryId: number; balanceAfter: number; resumedCampaignIds: string[] }
  | { outcome: "duplicate" }
  | { outcome: "slow" };

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

type Row = { outcome: string; purchase_id: string | null; entry_id: string | number | null; balance_after: number | null; resumed: string[] | null };

/**
 * Settles a payment_intent.succeeded event in one statement when it is the plain case. `slow`
 * means nothing was written: run the general path. Throws on a database failure (the caller
 * records it and answers 500), and on a race after the claim (code CL001, nothing written).
 */
export async function settlePaidTopUpInOneCall(db: Db, event: Stripe.PaymentIntentSucceededEvent): Promise<OneCallSettlement> {
  const pi = event.data.object;
  // Saving the card for later enqueues a job first (lib/balance-care/card-setup.ts): general path.
  if (pi.setup_future_usage) return { outcome: "slow" };
  const metaId = pi.metadata?.purchase_id;
  const byMeta = metaId && UUID.test(metaId) ? metaId : null;
  const [row] = await db
    .execute<Row>(sql`
    select * from creditloop_settle_paid_topup(${event.id}::text, ${event.type}::text, ${event.livemode}::boolean,
      ${JSON.stringify(event)}::jsonb, ${pi.id}::text, ${byMeta}::uuid, ${pi.amount_received}::int, ${pi.currency}::text)`)
    .execute();
  switch (row?.outcome) {
    case "processed":
      return {
        outcome: "processed",
        purchaseId: row.purchase_id!,
        entryId: Number(row.entry_id),
        balanceAfter: row.balance_after!,
        resumedCampaignIds: row.resumed ?? [],
      };
    case "duplicate":
      return { outcome: "duplicate" };
    case "slow":
      return { outcome: "slow" };
    default:
      throw new Error(`creditloop_settle_paid_topup answered ${JSON.stringify(row)}`);
  }
}
