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
// Why batches: one organisation's events serialise on its balance row, which each event held
// through its own commit (the WAL flush, most of the time it is held); and every call costs a
// round trip and a commit whatever it carries. Events that arrive while calls are running (two
// at most from one process: one holds its locks through its commit while the next does its first
// phase) wait and then go together in the next call: one round trip and one commit for all of
// them, each event still committed with its own processed marker. No event waits for a timer: a
// lone event goes at once, as a batch of one. A batch may mix organisations; the function takes
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
import { classifyDbError } from "../db-errors";
import { log } from "../log";

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
  const rows = await db
    .execute<Row>(sql`select * from creditloop_settle_paid_topups(${JSON.stringify(events)}::jsonb)`)
    .execute();
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

type Waiting = { event: Stripe.PaymentIntentSucceededEvent; resolve: (r: OneCallSettlement) => void; reject: (e: unknown) => void };

/**
 * Calls in flight from one process. While one holds organisations' locks through its commit, the
 * next runs its first phase; events arriving meanwhile wait for one of them to end.
 */
export const CALLS_IN_FLIGHT = 2;

/**
 * At most CALLS_IN_FLIGHT calls in flight from this process; events arriving meanwhile wait and
 * go together in the next one. Each event gets its own result or its own error.
 */
export class OneCallBatcher {
  private readonly queue: Waiting[] = [];
  private running = 0;

  constructor(
    private readonly db: Db,
    private readonly maxBatch = MAX_BATCH,
    private readonly callsInFlight = CALLS_IN_FLIGHT,
  ) {}

  settle(event: Stripe.PaymentIntentSucceededEvent): Promise<OneCallSettlement> {
    if (!oneCallCase(event)) return Promise.resolve({ outcome: "slow" });
    return new Promise((resolve, reject) => {
      this.queue.push({ event, resolve, reject });
      this.next();
    });
  }

  private next(): void {
    if (this.running >= this.callsInFlight || this.queue.length === 0) return;
    this.running++;
    void this.run(this.queue.splice(0, this.maxBatch)).finally(() => {
      this.running--;
      this.next();
    });
  }

  private async run(batch: Waiting[]): Promise<void> {
    try {
      const results = await settlePaidTopUpsInOneCall(
        this.db,
        batch.map((w) => w.event),
      );
      batch.forEach((w, i) => w.resolve(results[i]!));
      return;
    } catch (e) {
      // The database out of reach: one attempt per delivery, as without batches (Stripe
      // retries); trying each event again would only double the wait for the same answer.
      if (batch.length === 1 || classifyDbError(e)?.kind === "unavailable") {
        for (const w of batch) w.reject(e);
        return;
      }
      // The whole call rolled back: each event again on its own, so one bad event fails alone.
      log.warn({ event: "webhook_batch_retried_singly", eventIds: batch.map((w) => w.event.id), err: e }, "webhook: a batch of paid top-ups failed; settling them one by one");
    }
    for (const w of batch) {
      try {
        w.resolve(await settlePaidTopUpInOneCall(this.db, w.event));
      } catch (e) {
        w.reject(e);
      }
    }
  }
}

const batchers = new WeakMap<Db, OneCallBatcher>();

/** The process's batcher for `db`. */
export function oneCallBatcher(db: Db): OneCallBatcher {
  let b = batchers.get(db);
  if (!b) batchers.set(db, (b = new OneCallBatcher(db)));
  return b;
}
