// The webhook's hot path for a paid top-up: the whole settlement of payment_intent.succeeded in
// ONE round trip, by the database function creditloop_settle_paid_topups
// (db/migrations/0014_settle_paid_topups_batch.sql), called as a single statement outside any
// explicit transaction, so it is its own transaction with BEGIN and COMMIT included.
//
// Why a function: the general path (lib/webhooks/process.ts + lib/topups/settle.ts) needs three
// round trips (BEGIN+claim+purchase lock, purchase update+ledger+campaign lock, COMMIT), and on
// two shared cores each round trip costs more than the statements it carries (docs/benchmarks.md).
// In one call the organisation's row lock is held for two statements and the commit.
//
// Batched (lib/one-call-batcher.ts says why): events that arrive while calls are running go
// together in the next call, one round trip and one commit for all of them, each event still
// committed with its own processed marker. A batch may mix organisations; the function takes
// their locks in one order, so concurrent calls do not deadlock on each other.
//
// The function only settles the plain case (no coupon, amount and currency as charged, purchase
// not yet succeeded or under review) and otherwise answers "slow" for that event having written
// nothing for it; a race found after a claim raises SQLSTATE CL001 and rolls the call back. A
// batch that fails is retried event by event, so a bad event fails alone (unless the database is
// out of reach: then every event of the batch fails at once, as it would have alone); "slow" and
// CL001 send the event to the general path, which handles every case with the same effects.
import type Stripe from "stripe";
import { sql } from "drizzle-orm";
import type { Db } from "@/db/client";
import { batcherFor, OneCallBatcher as Batcher, queueTimeoutFor } from "../one-call-batcher";

export type OneCallSettlement =
  | { outcome: "processed"; purchaseId: string; entryId: number; balanceAfter: number; resumedCampaignIds: string[] }
  | { outcome: "duplicate" }
  | { outcome: "slow" };

/** At most this many events in one call (the organisation's lock is held for all of them). */
export const MAX_BATCH = 32;

type Row = { idx: number; outcome: string; purchase_id: string | null; entry_id: string | number | null; balance_after: number | null; resumed: string[] | null };

/** Settles `events` in one statement, in order; one result per event. */
export async function settlePaidTopUpsInOneCall(db: Db, events: Stripe.PaymentIntentSucceededEvent[]): Promise<OneCallSettlement[]> {
  // One jsonb parameter: the events as Stripe sent them; the function reads the fields it needs.
  // A lone event (the usual case below full load) that was processed before is answered by one
  // index lookup in the same statement, and the function is then never run (a one-time filter):
  // a late duplicate costs a round trip and little more.
  const rows =
    events.length === 1
      ? await db
          .execute<Row>(sql`
          with seen as (select 1 from stripe_events where id = ${events[0]!.id} and processed_at is not null)
          select 1 as idx, 'duplicate' as outcome, null::uuid as purchase_id, null::bigint as entry_id, null::integer as balance_after, null::uuid[] as resumed from seen
          union all
          select f.* from creditloop_settle_paid_topups(${JSON.stringify(events)}::jsonb) f where not exists (select 1 from seen)`)
          .execute()
      : await db.execute<Row>(sql`select * from creditloop_settle_paid_topups(${JSON.stringify(events)}::jsonb)`).execute();
  if (rows.length !== events.length) throw new Error(`creditloop_settle_paid_topups answered ${rows.length} rows for ${events.length} events`);
  return [...rows]
    .sort((a, b) => a.idx - b.idx)
    .map((row): OneCallSettlement => {
      switch (row.outcome) {
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
          throw new Error(`creditloop_settle_paid_topups answered ${JSON.stringify(row)}`);
      }
    });
}

/** One event in one call (a batch of one). */
export async function settlePaidTopUpInOneCall(db: Db, event: Stripe.PaymentIntentSucceededEvent): Promise<OneCallSettlement> {
  if (!oneCallCase(event)) return { outcome: "slow" };
  return (await settlePaidTopUpsInOneCall(db, [event]))[0]!;
}

/** False for what the function must not even see: saving the card enqueues a job first (lib/balance-care/card-setup.ts). */
function oneCallCase(event: Stripe.PaymentIntentSucceededEvent): boolean {
  return !event.data.object.setup_future_usage;
}

/**
 * Calls in flight from one process. While one holds organisations' locks through its commit, the
 * next runs its first phase; events arriving meanwhile wait for one of them to end.
 */
export const CALLS_IN_FLIGHT = 2;

/**
 * Paid top-ups batched (lib/one-call-batcher.ts): at most CALLS_IN_FLIGHT calls in flight from
 * this process; events arriving meanwhile go together in the next one. Each event gets its own
 * result or its own error.
 */
export class OneCallBatcher {
  private readonly batcher: Batcher<Stripe.PaymentIntentSucceededEvent, OneCallSettlement>;

  constructor(db: Db, maxBatch = MAX_BATCH, callsInFlight = CALLS_IN_FLIGHT) {
    this.batcher = new Batcher({
      call: (events) => settlePaidTopUpsInOneCall(db, events),
      what: "webhook: paid top-ups",
      event: "webhook_batch_retried_singly",
      ids: (events) => ({ eventIds: events.map((e) => e.id) }),
      maxBatch,
      callsInFlight,
      queueTimeoutMs: queueTimeoutFor(db),
    });
  }

  settle(event: Stripe.PaymentIntentSucceededEvent): Promise<OneCallSettlement> {
    if (!oneCallCase(event)) return Promise.resolve({ outcome: "slow" });
    return this.batcher.submit(event);
  }
}

const batchers = new WeakMap<Db, OneCallBatcher>();

/** The process's batcher for `db`. */
export function oneCallBatcher(db: Db): OneCallBatcher {
  return batcherFor(batchers, db, () => new OneCallBatcher(db));
}
