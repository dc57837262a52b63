// Batches for the hot paths that are ONE database call (a function that is its own transaction):
// paid top-ups (lib/topups/settle-paid.ts) and deliveries (lib/deliveries/one-call.ts).
//
// Why batches: one organisation's writes serialise on its balance row, which each held through
// its own commit (the WAL flush, most of the time it is held); and every call costs a round trip
// and a commit whatever it carries. Items that arrive while calls are running (`callsInFlight`
// at most: one holds its locks through its commit while the next does its first phase) wait and
// then go together in the next call: one round trip and one commit for all of them, each item
// still all-or-nothing in it. No item waits for a timer: a lone item goes at once, as a batch of
// one.
//
// With `group`, items of different groups (deliveries: organisations) never share a call, and
// each group has its own `callsInFlight`: a call never holds one organisation's lock while it
// waits for another's. `totalCallsInFlight` caps the calls of all groups together (the pool is
// shared with everything else), and groups waiting for a free call take turns. An item waits in
// the queue at most `queueTimeoutMs`, then fails as a pool that has no free slot fails
// (DB_ACQUIRE_TIMEOUT): no caller waits without bound (db/client.ts).
//
// A batch that fails is retried item by item, so a bad item fails alone; unless the database is
// out of reach or too slow (a statement or operation timeout): then every item of the batch fails
// at once, as it would have alone (trying each again would only multiply the wait for the same
// answer, and a call given up on client-side may still be running). A lock timeout (55P03) fails
// a grouped batch at once too (all its items wait for the same organisation's row); an ungrouped
// batch (top-ups of several organisations) is retried item by item, so one organisation's held
// row does not fail the others' items, until `queueTimeoutMs` has passed since the retries
// began: the items left then fail with the batch's error.
import { settingsOf } from "@/db/client";
import { classifyDbError, LOCK_TIMEOUT } from "./db-errors";
import { log } from "./log";

type Waiting<I, O> = { item: I; resolve: (r: O) => void; reject: (e: unknown) => void; timer: NodeJS.Timeout };

export type OneCallBatcherOptions<I, O> = {
  /** The one call: one result per item, in the items' order. */
  call: (items: I[]) => Promise<O[]>;
  /** For the log line of a batch retried item by item: what it carries, and the line's event. */
  what: string;
  event: string;
  ids: (items: I[]) => Record<string, unknown>;
  /** At most this many items in one call (the organisations' locks are held for all of them). */
  maxBatch: number;
  /** Calls in flight per group (or in all, without groups). */
  callsInFlight: number;
  /** Items of different groups never go in one call; each group has its own calls in flight. */
  group?: (item: I) => string;
  /** Calls in flight of all groups together (default: callsInFlight). */
  totalCallsInFlight?: number;
  /** Longest wait in the queue before a call takes the item (default 5 s); also bounds a failed batch's retries. */
  queueTimeoutMs?: number;
};

/** An item that waited too long for a call: as a pool with no free slot (lib/db-errors.ts: unavailable). */
export class BatchQueueTimeoutError extends Error {
  readonly code = "DB_ACQUIRE_TIMEOUT";
}

type Group<I, O> = { key: string; queue: Waiting<I, O>[]; running: number };

export class OneCallBatcher<I, O> {
  private readonly groups = new Map<string, Group<I, O>>();
  /** Groups with items waiting and a call of their own free, in turn order. */
  private readonly ready: Group<I, O>[] = [];
  private running = 0;
  private readonly queueTimeoutMs: number;

  constructor(private readonly opts: OneCallBatcherOptions<I, O>) {
    this.queueTimeoutMs = opts.queueTimeoutMs ?? 5_000;
  }

  submit(item: I): Promise<O> {
    const key = this.opts.group ? this.opts.group(item) : "";
    let g = this.groups.get(key);
    if (!g) this.groups.set(key, (g = { key, queue: [], running: 0 }));
    const group = g;
    return new Promise((resolve, reject) => {
      const timeoutMs = this.queueTimeoutMs;
      const waiting: Waiting<I, O> = {
        item,
        resolve,
        reject,
        timer: setTimeout(() => {
          const at = group.queue.indexOf(waiting);
          if (at < 0) return;
          group.queue.splice(at, 1);
          this.forget(group);
          reject(new BatchQueueTimeoutError(`${this.opts.what}: no call took this item within ${timeoutMs} ms`));
        }, timeoutMs),
      };
      waiting.timer.unref?.();
      group.queue.push(waiting);
      this.markReady(group);
      this.dispatch();
    });
  }

  private markReady(g: Group<I, O>): void {
    if (g.queue.length > 0 && g.running < this.opts.callsInFlight && !this.ready.includes(g)) this.ready.push(g);
  }

  private forget(g: Group<I, O>): void {
    if (g.queue.length > 0) return;
    const at = this.ready.indexOf(g);
    if (at >= 0) this.ready.splice(at, 1);
    if (g.running === 0) this.groups.delete(g.key);
  }

  private dispatch(): void {
    const total = this.opts.totalCallsInFlight ?? this.opts.callsInFlight;
    while (this.running < total && this.ready.length > 0) {
      const g = this.ready.shift()!;
      const batch = g.queue.splice(0, this.opts.maxBatch);
      for (const w of batch) clearTimeout(w.timer);
      g.running++;
      this.running++;
      this.markReady(g); // more items and another call of its own free: back in line, last
      void this.run(batch).finally(() => {
        g.running--;
        this.running--;
        this.markReady(g);
        this.forget(g);
        this.dispatch();
      });
    }
  }

  private async run(batch: Waiting<I, O>[]): Promise<void> {
    let batchError: unknown;
    try {
      const results = await this.opts.call(batch.map((w) => w.item));
      batch.forEach((w, i) => w.resolve(results[i]!));
      return;
    } catch (e) {
      const failure = classifyDbError(e);
      const heldRow = failure?.code === LOCK_TIMEOUT;
      if (batch.length === 1 || failure?.kind === "unavailable" || (failure?.kind === "timeout" && (!heldRow || this.opts.group))) {
        for (const w of batch) w.reject(e);
        return;
      }
      // The whole call rolled back: each item again on its own, so one bad item fails alone.
      log.warn({ event: this.opts.event, ...this.opts.ids(batch.map((w) => w.item)), err: e }, `${this.opts.what}: a batch failed; retrying its items one by one`);
      batchError = e;
    }
    const deadline = Date.now() + this.queueTimeoutMs;
    for (const w of batch) {
      if (Date.now() > deadline) {
        w.reject(batchError);
        continue;
      }
      try {
        w.resolve((await this.opts.call([w.item]))[0]!);
      } catch (e) {
        w.reject(e);
      }
    }
  }
}

/**
 * How long an item may wait for a call on `db`: twice its lock_timeout, so an item queued behind
 * a call that waits for a held row is still taken (and its replay answered) before it gives up;
 * the pool's acquire bound when there is no lock_timeout.
 */
export function queueTimeoutFor(db: object): number {
  const s = settingsOf(db);
  return s.lockTimeoutMs > 0 ? 2 * s.lockTimeoutMs : s.acquireTimeoutMs;
}

/** One batcher per (database, kind) in this process. */
export function batcherFor<K extends object, B>(cache: WeakMap<K, B>, key: K, make: () => B): B {
  let b = cache.get(key);
  if (!b) cache.set(key, (b = make()));
  return b;
}
