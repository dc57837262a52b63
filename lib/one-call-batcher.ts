// Batches for the hot paths that are ONE database call (a function that is its own transaction):
// paid top-ups (lib/topups/settle-paid.ts) and deliveries (lib/deliveries/one-call.ts).
//
// Why batches: one organisation's writes serialise on its balance row, which each held through
// its own commit (the WAL flush, most of the time it is held); and every call costs a round trip
// and a commit whatever it carries. Items that arrive while calls are running (`callsInFlight`
// at most from one process: one holds its locks through its commit while the next does its
// first phase) wait and then go together in the next call: one round trip and one commit for
// all of them, each item still all-or-nothing in it. No item waits for a timer: a lone item goes
// at once, as a batch of one.
//
// With `group`, items of different groups (deliveries: organisations) never share a call, and
// each group has its own calls in flight: a call never holds one organisation's lock while it
// waits for another's.
//
// A batch that fails is retried item by item, so a bad item fails alone; unless the database is
// out of reach or too slow to answer (unavailable, timeout): then every item of the batch fails
// at once, as it would have alone; trying each again would multiply the wait for the same answer,
// and a call the client gave up on may still have committed.
import { classifyDbError } from "./db-errors";
import { log } from "./log";

type Waiting<I, O> = { item: I; resolve: (r: O) => void; reject: (e: unknown) => void };

export type OneCallBatcherOptions<I, O> = {
  /** The one call: one result per item, in the items' order. */
  call: (items: I[]) => Promise<O[]>;
  /** For the log line of a batch retried item by item: what it carries, and the line's event. */
  what: string;
  event: string;
  ids: (items: I[]) => Record<string, unknown>;
  /** At most this many items in one call (the organisations' locks are held for all of them). */
  maxBatch: number;
  callsInFlight: number;
  /** Items of different groups never go in one call; each group has its own calls in flight. */
  group?: (item: I) => string;
};

type Group<I, O> = { queue: Waiting<I, O>[]; running: number };

export class OneCallBatcher<I, O> {
  private readonly groups = new Map<string, Group<I, O>>();

  constructor(private readonly opts: OneCallBatcherOptions<I, O>) {}

  submit(item: I): Promise<O> {
    const key = this.opts.group ? this.opts.group(item) : "";
    let g = this.groups.get(key);
    if (!g) this.groups.set(key, (g = { queue: [], running: 0 }));
    const group = g;
    return new Promise((resolve, reject) => {
      group.queue.push({ item, resolve, reject });
      this.next(key, group);
    });
  }

  private next(key: string, g: Group<I, O>): void {
    if (g.running >= this.opts.callsInFlight) return;
    if (g.queue.length === 0) {
      if (g.running === 0) this.groups.delete(key);
      return;
    }
    g.running++;
    void this.run(g.queue.splice(0, this.opts.maxBatch)).finally(() => {
      g.running--;
      this.next(key, g);
    });
  }

  private async run(batch: Waiting<I, O>[]): Promise<void> {
    try {
      const results = await this.opts.call(batch.map((w) => w.item));
      batch.forEach((w, i) => w.resolve(results[i]!));
      return;
    } catch (e) {
      const kind = classifyDbError(e)?.kind;
      if (batch.length === 1 || kind === "unavailable" || kind === "timeout") {
        for (const w of batch) w.reject(e);
        return;
      }
      // The whole call rolled back: each item again on its own, so one bad item fails alone.
      log.warn({ event: this.opts.event, ...this.opts.ids(batch.map((w) => w.item)), err: e }, `${this.opts.what}: a batch failed; retrying its items one by one`);
    }
    for (const w of batch) {
      try {
        w.resolve((await this.opts.call([w.item]))[0]!);
      } catch (e) {
        w.reject(e);
      }
    }
  }
}

/** One batcher per (database, kind) in this process. */
export function batcherFor<K extends object, B>(cache: WeakMap<K, B>, key: K, make: () => B): B {
  let b = cache.get(key);
  if (!b) cache.set(key, (b = make()));
  return b;
}
