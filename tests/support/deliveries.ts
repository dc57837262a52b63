// Helpers for delivery tests: an active campaign, an API key, a call of the delivery API
// (lib/deliveries/receive.ts, the route's logic) and a fingerprint of every table the delivery
// path may write, to assert that a refused request wrote nothing.
import { sql } from "drizzle-orm";
import type { Db } from "@/db/client";
import { campaigns } from "@/db/schema";
import { grantCredits } from "@/lib/ledger/ledger";
import { createApiKey } from "@/lib/api-keys/service";
import { receiveDeliveryRequest } from "@/lib/deliveries/receive";

export async function makeActiveCampaign(db: Db, orgId: string, cost = 10, name = `Campaign ${crypto.randomUUID().slice(0, 6)}`) {
  const [c] = await db.insert(campaigns).values({ orgId, name, status: "active", costPerDelivery: cost }).returning();
  return c!;
}

export async function fund(db: Db, orgId: string, amount: number, key = `bonus:${crypto.randomUUID()}`) {
  return db.transaction((tx) => grantCredits(tx, { orgId, amount, kind: "bonus", idempotencyKey: key, description: "test funds" }));
}

export async function makeApiKey(db: Db, orgId: string, userId: string) {
  return createApiKey(db, { orgId, name: "test", userId, mode: "test" });
}

export type CallOpts = {
  key?: string | null;
  idempotencyKey?: string | null;
  /** A string, or a stream (sent without Content-Length, as a chunked request is). */
  body?: string | ReadableStream<Uint8Array>;
  contentType?: string | null;
  headers?: Record<string, string>;
};

export async function callDeliveryApi(db: Db, campaignId: string, o: CallOpts = {}) {
  const headers: Record<string, string> = { ...(o.headers ?? {}) };
  if (o.key) headers.authorization = `Bearer ${o.key}`;
  if (o.idempotencyKey !== null) headers["idempotency-key"] = o.idempotencyKey ?? crypto.randomUUID();
  if (o.contentType !== null) headers["content-type"] = o.contentType ?? "application/json";
  const body = o.body ?? "{}";
  const init = { method: "POST", headers, body, ...(typeof body === "string" ? {} : { duplex: "half" }) };
  const request = new Request(`http://localhost:3000/api/v1/campaigns/${campaignId}/deliveries`, init as RequestInit);
  const res = await receiveDeliveryRequest(db, request, campaignId);
  return { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, any> };
}

/** Every row of the tables a delivery may touch, as one comparable value. */
export async function deliveryFingerprint(db: Db): Promise<string> {
  const tables = ["organizations", "campaigns", "credit_entries", "deliveries", "api_keys", "api_key_windows", "notifications", "purchases", "balance_settings", "usage_records", "meter_batches"];
  const parts: string[] = [];
  for (const t of tables) {
    const rows = await db.execute<{ j: unknown }>(sql.raw(`SELECT coalesce(json_agg(t ORDER BY t::text), '[]') AS j FROM ${t} t`));
    parts.push(`${t}:${JSON.stringify(rows[0]!.j)}`);
  }
  const jobs = await db.execute<{ n: number }>(sql.raw(`SELECT count(*)::int AS n FROM pgboss.job`));
  parts.push(`jobs:${jobs[0]!.n}`);
  return parts.join("\n");
}

/** Backends of this database waiting for a lock now. */
export async function lockWaiters(db: Db): Promise<number> {
  const [row] = await db.execute<{ n: number }>(sql`select count(*)::int n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'`);
  return row!.n;
}

/** Waits (up to 3 s) until at least `n` backends wait for a lock, or `stop()` says to give up; the last count. */
export async function untilLockWaiters(db: Db, n: number, stop: () => boolean = () => false): Promise<number> {
  let waiting = 0;
  for (let i = 0; i < 300 && !stop(); i++) {
    waiting = await lockWaiters(db);
    if (waiting >= n) break;
    await new Promise((r) => setTimeout(r, 10));
  }
  return waiting;
}

/**
 * Holds the organisation's row (the lock a balance change takes) in a transaction of its own,
 * until `release()` (which waits for that transaction to end).
 */
export async function holdOrgRow(db: Db, orgId: string): Promise<{ release: () => Promise<void> }> {
  let release!: () => void;
  const released = new Promise<void>((r) => (release = r));
  let locked!: () => void;
  const lockTaken = new Promise<void>((r) => (locked = r));
  const holder = db.transaction(async (tx) => {
    await tx.execute(sql`select 1 from organizations where id = ${orgId}::uuid for no key update`);
    locked();
    await released;
  });
  await Promise.race([lockTaken, holder]);
  return {
    release: async () => {
      release();
      await holder;
    },
  };
}

/**
 * Runs `start` while another transaction holds the organisation's row (the lock a balance change
 * takes), waits until a backend is waiting for a lock (the started work reached its debit), runs
 * `meanwhile`, then releases the row and returns what `start` gave.
 */
export async function whileOrgRowHeld<T>(db: Db, orgId: string, start: () => Promise<T>, meanwhile: () => Promise<unknown>): Promise<T> {
  const held = await holdOrgRow(db, orgId);
  let started: Promise<T>;
  try {
    started = start();
    // A failure shows when it is awaited below; never unhandled while the row is held.
    started.catch(() => {});
    await untilLockWaiters(db, 1);
    await meanwhile();
  } finally {
    await held.release();
  }
  return started;
}
