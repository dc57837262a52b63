// The batcher alone, with a fake call: what goes together, how many calls run at once, and what
// a failed call means for each item. (The calls themselves: tests/integration/settle-paid.test.ts
// and deliveries-one-call.test.ts.)
import { describe, expect, it } from "vitest";
import { OneCallBatcher } from "./one-call-batcher";
import { classifyDbError } from "./db-errors";

type Item = { org: string; n: number };

/** A fake one call: records each call's items, answers after `release()` (or at once). */
function fake(opts: { fail?: (items: Item[]) => Error | null; hold?: boolean } = {}) {
  const calls: Item[][] = [];
  let running = 0;
  let maxRunning = 0;
  const waiters: (() => void)[] = [];
  const call = async (items: Item[]) => {
    calls.push(items);
    running++;
    maxRunning = Math.max(maxRunning, running);
    if (opts.hold) await new Promise<void>((r) => waiters.push(r));
    else await new Promise((r) => setTimeout(r, 5));
    running--;
    const err = opts.fail?.(items);
    if (err) throw err;
    return items.map((i) => `${i.org}:${i.n}`);
  };
  const releaseAll = () => waiters.splice(0).forEach((w) => w());
  return { call, calls, maxRunning: () => maxRunning, releaseAll };
}

const batcher = (f: ReturnType<typeof fake>, grouped: boolean, callsInFlight = 2) =>
  new OneCallBatcher<Item, string>({ call: f.call, what: "test", event: "test_batch_retried_singly", ids: () => ({}), maxBatch: 32, callsInFlight, ...(grouped ? { group: (i: Item) => i.org } : {}) });

describe("OneCallBatcher", () => {
  it("items arriving while calls run go together in the next call; each gets its own result", async () => {
    const f = fake();
    const b = batcher(f, false);
    const out = await Promise.all(Array.from({ length: 10 }, (_, n) => b.submit({ org: "a", n })));
    expect(out).toEqual(Array.from({ length: 10 }, (_, n) => `a:${n}`));
    // Two alone (two calls in flight), then the eight that waited, together.
    expect(f.calls.map((c) => c.length)).toEqual([1, 1, 8]);
  });

  it("with groups, items of two organisations never share a call, and each has its own calls in flight", async () => {
    const f = fake({ hold: true });
    const b = new OneCallBatcher<Item, string>({ call: f.call, what: "test", event: "e", ids: () => ({}), maxBatch: 32, callsInFlight: 1, totalCallsInFlight: 2, group: (i) => i.org });
    const all = Promise.all([0, 1, 2].flatMap((n) => [b.submit({ org: "a", n }), b.submit({ org: "b", n })]));
    await new Promise((r) => setTimeout(r, 10));
    // One call per organisation at once, neither waiting for the other's.
    expect(f.calls.map((c) => c.map((i) => i.org))).toEqual([["a"], ["b"]]);
    for (let i = 0; i < 5 && f.calls.length < 4; i++) {
      f.releaseAll();
      await new Promise((r) => setTimeout(r, 10));
    }
    f.releaseAll();
    await new Promise((r) => setTimeout(r, 10));
    f.releaseAll();
    expect(await all).toEqual(["a:0", "b:0", "a:1", "b:1", "a:2", "b:2"]);
    expect(f.calls.every((c) => new Set(c.map((i) => i.org)).size === 1)).toBe(true);
    expect(f.calls.map((c) => c.length)).toEqual([1, 1, 2, 2]);
  });

  it("a batch that fails for a reason of its own is retried item by item: the bad item fails alone", async () => {
    const f = fake({ fail: (items) => (items.some((i) => i.n === 2) ? Object.assign(new Error("value out of range"), { code: "22003" }) : null) });
    const b = batcher(f, false, 1);
    const out = await Promise.allSettled([1, 2, 3].map((n) => b.submit({ org: "a", n })));
    expect(out.map((o) => o.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    // [1] alone, then [2, 3] together (fails), then 2 and 3 again, each on its own.
    expect(f.calls.map((c) => c.map((i) => i.n))).toEqual([[1], [2, 3], [2], [3]]);
  });

  it("a batch that fails because the database is out of reach fails every item at once, without retries", async () => {
    for (const grouped of [false, true]) {
      const f = fake({ fail: () => Object.assign(new Error("terminating connection"), { code: "57P01" }) });
      const b = batcher(f, grouped, 1);
      const out = await Promise.allSettled([1, 2, 3].map((n) => b.submit({ org: "a", n })));
      expect(out.map((o) => (o.status === "rejected" ? (o.reason as { code?: string }).code : "ok"))).toEqual(["57P01", "57P01", "57P01"]);
      expect(f.calls.map((c) => c.length)).toEqual([1, 2]);
    }
  });

  it("a statement or operation timeout fails any batch at once; a lock timeout fails a grouped batch at once, an ungrouped one item by item (one organisation's held row must not fail another's)", async () => {
    const failWith = (code: string) => () => Object.assign(new Error(code), { code });
    for (const code of ["57014", "DB_OPERATION_TIMEOUT", "55P03"]) {
      const grouped = fake({ fail: failWith(code) });
      const g = batcher(grouped, true, 1);
      await Promise.allSettled([1, 2, 3].map((n) => g.submit({ org: "a", n })));
      expect(grouped.calls.map((c) => c.length), code).toEqual([1, 2]);
    }
    for (const code of ["57014", "DB_OPERATION_TIMEOUT"]) {
      const slow = fake({ fail: failWith(code) });
      const u = batcher(slow, false, 1);
      await Promise.allSettled([1, 2, 3].map((n) => u.submit({ org: "a", n })));
      expect(slow.calls.map((c) => c.length), code).toEqual([1, 2]);
    }
    // Organisation "a" is held; "b" settles once retried alone.
    const mixed = fake({ fail: (items) => (items.some((i) => i.org === "a") ? Object.assign(new Error("lock timeout"), { code: "55P03" }) : null) });
    const u = batcher(mixed, false, 1);
    const out = await Promise.allSettled([{ org: "b", n: 1 }, { org: "a", n: 2 }, { org: "b", n: 3 }].map((i) => u.submit(i)));
    expect(out.map((o) => o.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    expect(mixed.calls.map((c) => c.map((i) => `${i.org}${i.n}`))).toEqual([["b1"], ["a2", "b3"], ["a2"], ["b3"]]);
  });

  it("a failed batch's item-by-item retries stop at the queue's bound: the items left fail with the batch's error", async () => {
    let calls = 0;
    const b = new OneCallBatcher<Item, string>({
      call: async (items) => {
        calls++;
        await new Promise((r) => setTimeout(r, 40));
        if (items.length > 1 || items[0]!.n === 2) throw Object.assign(new Error(`held ${items.length}`), { code: "55P03" });
        return items.map((i) => `${i.org}:${i.n}`);
      },
      what: "test",
      event: "e",
      ids: () => ({}),
      maxBatch: 32,
      callsInFlight: 1,
      queueTimeoutMs: 60,
    });
    const out = await Promise.allSettled([1, 2, 3, 4].map((n) => b.submit({ org: String(n), n })));
    // 1 alone; [2, 3, 4] fails; 2 alone fails (40 ms), 3 alone settles (80 ms); 4 is past the bound.
    expect(out.map((o) => (o.status === "fulfilled" ? o.value : (o.reason as Error).message))).toEqual(["1:1", "held 1", "3:3", "held 3"]);
    expect(calls).toBe(4);
  });

  it("groups take turns for a limited number of calls in all; each group keeps its own limit", async () => {
    const f = fake({ hold: true });
    const b = new OneCallBatcher<Item, string>({ call: f.call, what: "test", event: "e", ids: () => ({}), maxBatch: 32, callsInFlight: 2, totalCallsInFlight: 3, group: (i) => i.org });
    const all = Promise.all(["a", "a", "a", "a", "b", "c"].map((org, n) => b.submit({ org, n })));
    await new Promise((r) => setTimeout(r, 10));
    // Three calls in all: a's first two (its own limit is 2), then b's; c waits its turn.
    expect(f.calls.map((c) => c.map((i) => `${i.org}${i.n}`))).toEqual([["a0"], ["a1"], ["b4"]]);
    expect(f.maxRunning()).toBe(3);
    for (let i = 0; i < 6; i++) {
      f.releaseAll();
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(await all).toEqual(["a:0", "a:1", "a:2", "a:3", "b:4", "c:5"]);
    // c went before a's remaining items (a had had its turn), and never more than 3 at once.
    expect(f.calls.map((c) => c.map((i) => `${i.org}${i.n}`))).toEqual([["a0"], ["a1"], ["b4"], ["c5"], ["a2", "a3"]]);
    expect(f.maxRunning()).toBe(3);
  });

  it("an item no call takes within the queue's bound fails as a pool without a free slot does (unavailable), and leaves the queue", async () => {
    const f = fake({ hold: true });
    const b = new OneCallBatcher<Item, string>({ call: f.call, what: "test", event: "e", ids: () => ({}), maxBatch: 32, callsInFlight: 1, queueTimeoutMs: 50 });
    const first = b.submit({ org: "a", n: 0 });
    const second = b.submit({ org: "a", n: 1 }).catch((e: unknown) => e);
    expect(await second).toMatchObject({ code: "DB_ACQUIRE_TIMEOUT" });
    expect(classifyDbError(await second)?.kind).toBe("unavailable");
    f.releaseAll();
    expect(await first).toBe("a:0");
    expect(f.calls.map((c) => c.length)).toEqual([1]);
  });
});
