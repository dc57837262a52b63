// Webhook load for the database-fault tests and the recovery benchmark: signed
// payment_intent.succeeded events for paid purchases, delivered N at a time, about 30 % of them
// duplicates of events already acknowledged, each retried on a non-2xx answer as Stripe does.
// Records when each delivery was acknowledged, so a caller can compute rates over windows, and
// which events were ever attempted, so it can check exactly-once effects afterwards.
import { inArray, sql } from "drizzle-orm";
import Stripe from "stripe";
import type { Db } from "@/db/client";
import { creditEntries, creditPacks, organizations, purchases, users } from "@/db/schema";

/**
 * Events for a recovery test's whole run (about 14 s at up to ~1,500/s here since the hot path
 * got cheaper): the tests check the load never ran out, which would hide a stall.
 */
export const RECOVERY_LOAD_EVENTS = 30_000;

export type Deliver = (payload: string, signature: string) => Promise<number>;

export type LoadEvent = { purchaseId: string; payload: string };

/** `count` pending purchases over `orgs` new organisations, and the event that pays each. */
export async function makePaidEvents(db: Db, opts: { count: number; orgs?: number; tag?: string }): Promise<LoadEvent[]> {
  const tag = opts.tag ?? Math.random().toString(36).slice(2, 8);
  const orgRows = await db
    .insert(organizations)
    .values(Array.from({ length: opts.orgs ?? 20 }, (_, i) => ({ slug: `load-${tag}-${i}`, name: `Load ${i}` })))
    .returning();
  const [user] = await db.insert(users).values({ email: `load-${tag}@example.test`, name: "load", passwordHash: "x" }).returning();
  const [pack] = await db.insert(creditPacks).values({ slug: `load-${tag}`, name: "Load", credits: 10, amount: 1000 }).returning();
  return insertPaidPurchases(db, { orgIds: orgRows.map((o) => o.id), userId: user!.id, packId: pack!.id, count: opts.count, tag: `load_${tag}` });
}

/**
 * `count` pending purchases of a 10-credit, $10.00 pack spread over `orgIds` (round robin), and
 * the `payment_intent.succeeded` event that pays each (unsigned). Shared with the benchmark.
 */
export async function insertPaidPurchases(
  db: Db,
  p: { orgIds: string[]; userId: string; packId: string; count: number; tag: string },
): Promise<LoadEvent[]> {
  const out: LoadEvent[] = [];
  for (let start = 0; start < p.count; start += 1000) {
    const n = Math.min(1000, p.count - start);
    const rows = await db
      .insert(purchases)
      .values(
        Array.from({ length: n }, (_, k) => ({
          orgId: p.orgIds[(start + k) % p.orgIds.length]!,
          userId: p.userId,
          packId: p.packId,
          requestId: crypto.randomUUID(),
          credits: 10,
          subtotal: 1000,
          amount: 1000,
          currency: "usd",
          stripePaymentIntentId: `pi_${p.tag}_${start + k}`,
        })),
      )
      .returning();
    for (const row of rows) {
      out.push({
        purchaseId: row.id,
        payload: JSON.stringify({
          id: `evt_${row.stripePaymentIntentId}`,
          object: "event",
          api_version: Stripe.API_VERSION,
          created: Math.floor(Date.now() / 1000),
          livemode: false,
          pending_webhooks: 1,
          request: { id: null, idempotency_key: null },
          type: "payment_intent.succeeded",
          data: {
            object: {
              id: row.stripePaymentIntentId,
              object: "payment_intent",
              status: "succeeded",
              amount: 1000,
              amount_received: 1000,
              currency: "usd",
              metadata: { purchase_id: row.id, org_id: row.orgId },
            },
          },
        }),
      });
    }
  }
  return out;
}

export type LoadRun = {
  /** Acknowledgement (2xx) times, performance.now() milliseconds. */
  readonly acks: number[];
  /** Non-2xx answers and thrown deliveries. */
  readonly failures: { at: number; status: number | string }[];
  /** Indexes of events delivered at least once (acknowledged or not). */
  readonly attempted: Set<number>;
  readonly acknowledged: Set<number>;
  /** Deliveries acknowledged in [from, to) per second. */
  rate(from: number, to: number): number;
  /** Stop starting deliveries; waits (at most `graceMs`) for those under way to end. */
  stop(graceMs?: number): Promise<void>;
};

/**
 * Starts `concurrency` workers delivering `events`: each picks either the next new event or (with
 * probability `duplicateRatio`) an already acknowledged one, and retries it until it is
 * acknowledged or the run stops.
 */
export function startLoad(opts: {
  events: LoadEvent[];
  deliver: Deliver;
  secret: string;
  concurrency?: number;
  duplicateRatio?: number;
  retryDelayMs?: number;
}): LoadRun {
  const stripe = new Stripe("sk_test_load");
  const acks: number[] = [];
  const failures: { at: number; status: number | string }[] = [];
  const attempted = new Set<number>();
  const acknowledged = new Set<number>();
  const ackedList: number[] = [];
  let next = 0;
  let stopped = false;
  const dupRatio = opts.duplicateRatio ?? 0.3;

  const pick = (): number | null => {
    if (ackedList.length > 0 && Math.random() < dupRatio) return ackedList[Math.floor(Math.random() * ackedList.length)]!;
    if (next < opts.events.length) return next++;
    return null;
  };

  const worker = async () => {
    while (!stopped) {
      const i = pick();
      if (i === null) return;
      attempted.add(i);
      const payload = opts.events[i]!.payload;
      while (!stopped) {
        const header = stripe.webhooks.generateTestHeaderString({ payload, secret: opts.secret });
        let status: number | string;
        try {
          status = await opts.deliver(payload, header);
        } catch (e) {
          status = (e as { code?: string }).code ?? String(e).slice(0, 80);
        }
        const at = performance.now();
        if (typeof status === "number" && status >= 200 && status < 300) {
          acks.push(at);
          if (!acknowledged.has(i)) {
            acknowledged.add(i);
            ackedList.push(i);
          }
          break;
        }
        failures.push({ at, status });
        await new Promise((r) => setTimeout(r, opts.retryDelayMs ?? 20));
      }
    }
  };
  const workers = Array.from({ length: opts.concurrency ?? 16 }, worker);
  const all = Promise.all(workers);

  return {
    acks,
    failures,
    attempted,
    acknowledged,
    rate(from, to) {
      let n = 0;
      for (const t of acks) if (t >= from && t < to) n++;
      return n / ((to - from) / 1000);
    },
    async stop(graceMs = 20_000) {
      stopped = true;
      await Promise.race([all, new Promise((r) => setTimeout(r, graceMs))]);
    },
  };
}

/**
 * The first moment after `from` at which a `windowMs` window reaches `target` deliveries/s, as
 * milliseconds after `from` to the END of that window (so "recovered within 5 s" means ≤ 5000);
 * null if no window up to `until` does.
 */
export function recoveryTime(run: LoadRun, from: number, until: number, target: number, windowMs = 1000): number | null {
  for (let start = from; start + windowMs <= until; start += 100) {
    if (run.rate(start, start + windowMs) >= target) return start + windowMs - from;
  }
  return null;
}

/** Delivers every attempted but unacknowledged event again until acknowledged (Stripe's retries), within `deadlineMs`. */
export async function redeliverUnacknowledged(run: LoadRun, events: LoadEvent[], deliver: Deliver, secret: string, deadlineMs = 30_000) {
  const stripe = new Stripe("sk_test_load");
  const end = performance.now() + deadlineMs;
  for (const i of run.attempted) {
    if (run.acknowledged.has(i)) continue;
    while (performance.now() < end) {
      const payload = events[i]!.payload;
      const header = stripe.webhooks.generateTestHeaderString({ payload, secret });
      const status = await deliver(payload, header).catch(() => 0);
      if (status >= 200 && status < 300) {
        run.acknowledged.add(i);
        break;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/**
 * Exactly-once check over the run: every attempted event's purchase succeeded with exactly one
 * ledger entry; every never-attempted one is still pending with none. Returns the offenders.
 */
export async function exactlyOnceViolations(db: Db, run: LoadRun, events: LoadEvent[]) {
  const ids = events.map((e) => e.purchaseId);
  const rows: { id: string; status: string; entries: number }[] = [];
  for (let i = 0; i < ids.length; i += 5000) {
    const chunk = ids.slice(i, i + 5000);
    // Entries counted in one pass (credit_entries has no index on purchase_id: a count per
    // purchase was a scan per purchase, which passed the 15 s statement timeout on a busy machine).
    const counts = await db
      .select({ purchaseId: creditEntries.purchaseId, n: sql<number>`count(*)::int` })
      .from(creditEntries)
      .where(inArray(creditEntries.purchaseId, chunk))
      .groupBy(creditEntries.purchaseId);
    const entriesOf = new Map(counts.map((c) => [c.purchaseId, c.n]));
    const found = await db.select({ id: purchases.id, status: purchases.status }).from(purchases).where(inArray(purchases.id, chunk));
    rows.push(...found.map((r) => ({ ...r, entries: entriesOf.get(r.id) ?? 0 })));
  }
  const byId = new Map(rows.map((r) => [r.id, r]));
  const bad: { index: number; status: string | undefined; entries: number | undefined; acknowledged: boolean }[] = [];
  events.forEach((e, index) => {
    const r = byId.get(e.purchaseId);
    const want = run.acknowledged.has(index) ? { status: "succeeded", entries: 1 } : run.attempted.has(index) ? null : { status: "pending", entries: 0 };
    const ok = want ? r?.status === want.status && r?.entries === want.entries : r?.entries === (r?.status === "succeeded" ? 1 : 0);
    if (!ok) bad.push({ index, status: r?.status, entries: r?.entries, acknowledged: run.acknowledged.has(index) });
  });
  return { count: bad.length, first: bad.slice(0, 5) };
}

/** The median of the 1-second rates in [from, to): the pre-fault baseline, robust to one noisy second on a shared machine. */
export function medianRate(run: LoadRun, from: number, to: number): number {
  const rates: number[] = [];
  for (let t = from; t + 1000 <= to; t += 500) rates.push(run.rate(t, t + 1000));
  rates.sort((a, b) => a - b);
  return rates[Math.floor(rates.length / 2)] ?? 0;
}

/** Deliveries/s per second from `from` to `to`, for a log line. */
export function timeline(run: LoadRun, from: number, to: number): string {
  const out: string[] = [];
  for (let t = from; t + 1000 <= to; t += 1000) out.push(run.rate(t, t + 1000).toFixed(0));
  return out.join(" ");
}

/**
 * Opens every connection of a pool (`connections`, its size: that many brief queries at once),
 * so the rate measured before a fault is the rate of a full pool, as after it. The retries after
 * a fault open the whole pool, and postgres.js hands queries to its idle connections oldest first, so ten
 * backends then share work that two did before; on two cores that ran 20–30 % slower here, and
 * the comparison measured the pool's size instead of the recovery (a 2-connection rate before
 * against a 10-connection one after).
 */
export async function fillPool(db: Db, connections: number) {
  await Promise.all(Array.from({ length: connections }, () => db.execute(sql`select pg_sleep(0.05)`)));
}
