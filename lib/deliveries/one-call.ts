// The delivery's hot path: the plain delivery (campaign active, the balance covers it, nothing for
// balance care to do) recorded whole in ONE round trip by the database function
// creditloop_record_deliveries (db/migrations/0016_record_deliveries_batch.sql; 0017 and 0018
// replaced it, each saying why), called as a single statement outside any explicit transaction,
// so it is its own transaction with BEGIN and COMMIT included: claim, debit (with the expiring
// buckets drained), campaign count and the delivery's update, with the organisation's row held
// for those statements and the commit, instead of a transaction of five round trips.
//
// Batched (lib/one-call-batcher.ts): deliveries arriving while calls run go together in the next
// call, one round trip and one commit for all of them, each delivery still all-or-nothing in it.
// One organisation per call (two in flight per organisation, half the pool in all; an item
// waits for a call at most twice lock_timeout). The function answers "slow" having written nothing for
// every case it leaves to the general path (lib/deliveries/service.ts), which handles every case
// with the same effects, including a delivery whose key another request is recording right now
// (the claim's advisory lock, LOCK_NAMESPACE.deliveryClaims, is taken by the general path and
// only tried by the function, which holds the organisation's lock: waiting there would deadlock).
import { sql } from "drizzle-orm";
import type { Db } from "@/db/client";
import { settingsOf } from "@/db/client";
import { batcherFor, OneCallBatcher, queueTimeoutFor } from "../one-call-batcher";
import type { DeliveryOutcome, DeliveryRequest } from "./service";
import { deliveryIdFor, deliveryRequestHash } from "./ids";

export type OneCallDelivery = ({ outcome: "delivered" | "replayed" } & DeliveryOutcome) | { outcome: "slow" };

/** At most this many deliveries in one call (the organisations' locks are held for all of them). */
export const MAX_BATCH = 32;
/** Calls in flight per organisation (as for paid top-ups: one commits while the next starts). */
export const CALLS_IN_FLIGHT = 2;

/**
 * Calls of all organisations together, from one process: half the pool (the pool serves
 * everything else too). An organisation whose row is held elsewhere keeps its calls for up to
 * lock_timeout, so it takes CALLS_IN_FLIGHT of these meanwhile, not the pool.
 */
export function totalCallsInFlight(db: Db): number {
  return Math.max(CALLS_IN_FLIGHT, Math.floor(settingsOf(db).max / 2));
}

type Item = {
  id: string;
  orgId: string;
  campaignId: string;
  idempotencyKey: string;
  requestHash: string;
  reference: string | null;
  apiKeyId: string | null;
  userId: string | null;
};

type Row = {
  idx: number;
  outcome: string;
  delivery_id: string | null;
  campaign_id: string | null;
  credits: number | null;
  overage_credits: number | null;
  reference: string | null;
  created_at: string | Date | null;
  balance_after: number | null;
};

/**
 * What the one call must not even see: a reference JSON cannot carry to the database as text (a
 * lone surrogate, which the general path's text parameter would store as U+FFFD, or NUL, which no
 * text column holds) would fail the whole batch it rides in. The API refuses both before this
 * (lib/deliveries/receive.ts); this keeps the batch safe for any other caller.
 */
export function oneCallCase(req: DeliveryRequest): boolean {
  // \p{Cs} under the u flag matches only unpaired surrogates (isWellFormed is beyond this lib).
  return req.reference == null || (!/\p{Cs}/u.test(req.reference) && !req.reference.includes("\0"));
}

export function oneCallItem(req: DeliveryRequest): Item {
  const reference = req.reference ?? null;
  return {
    id: deliveryIdFor(req.orgId, req.idempotencyKey),
    orgId: req.orgId,
    campaignId: req.campaignId,
    idempotencyKey: req.idempotencyKey,
    requestHash: deliveryRequestHash(req.campaignId, reference),
    reference,
    apiKeyId: req.apiKeyId ?? null,
    userId: req.userId ?? null,
  };
}

/** Records `items` in one statement; one result per item, in their order. */
export async function recordDeliveriesInOneCall(db: Db, items: Item[]): Promise<OneCallDelivery[]> {
  const rows = await db.execute<Row>(sql`select * from creditloop_record_deliveries(${JSON.stringify(items)}::jsonb)`).execute();
  if (rows.length !== items.length) throw new Error(`creditloop_record_deliveries answered ${rows.length} rows for ${items.length} deliveries`);
  return [...rows]
    .sort((a, b) => a.idx - b.idx)
    .map((row): OneCallDelivery => {
      if (row.outcome === "slow") return { outcome: "slow" };
      if (row.outcome !== "delivered" && row.outcome !== "replayed") throw new Error(`creditloop_record_deliveries answered ${JSON.stringify(row)}`);
      return {
        outcome: row.outcome,
        replayed: row.outcome === "replayed",
        delivery: {
          id: row.delivery_id!,
          campaignId: row.campaign_id!,
          status: "delivered",
          credits: row.credits!,
          overageCredits: row.overage_credits!,
          balanceAfter: row.balance_after!,
          reference: row.reference,
          createdAt: (row.created_at instanceof Date ? row.created_at : new Date(row.created_at!)).toISOString(),
        },
      };
    });
}

export function newDeliveryBatcher(db: Db, maxBatch = MAX_BATCH, callsInFlight = CALLS_IN_FLIGHT): OneCallBatcher<Item, OneCallDelivery> {
  return new OneCallBatcher({
    call: (items) => recordDeliveriesInOneCall(db, items),
    what: "deliveries",
    event: "delivery_batch_retried_singly",
    ids: (items) => ({ orgId: items[0]?.orgId, deliveryIds: items.map((i) => i.id) }),
    maxBatch,
    callsInFlight,
    // One organisation per call: a call never holds one organisation's lock while it waits for
    // another's; an organisation whose row is held elsewhere holds up the others only by the
    // calls it occupies meanwhile (CALLS_IN_FLIGHT of totalCallsInFlight).
    group: (item) => item.orgId,
    totalCallsInFlight: Math.max(callsInFlight, totalCallsInFlight(db)),
    queueTimeoutMs: queueTimeoutFor(db),
  });
}

const batchers = new WeakMap<Db, OneCallBatcher<Item, OneCallDelivery>>();

/** The process's delivery batcher for `db`. */
export function deliveryBatcher(db: Db): OneCallBatcher<Item, OneCallDelivery> {
  return batcherFor(batchers, db, () => newDeliveryBatcher(db));
}
