// The batcher's failure handling, without a database: what a failed call means for each event of
// its batch. (Settlement itself: tests/integration/settle-paid.test.ts.)
import { describe, expect, it } from "vitest";
import type Stripe from "stripe";
import type { Db } from "@/db/client";
import { OneCallBatcher } from "./settle-paid";

const event = (i: number) =>
  ({ id: `evt_${i}`, type: "payment_intent.succeeded", livemode: false, data: { object: { id: `pi_${i}`, metadata: {} } } }) as unknown as Stripe.PaymentIntentSucceededEvent;

/** A Db whose calls all fail with `error`, counting the calls and the events each carried. */
function failingDb(error: Error & { code?: string }) {
  const calls: number[] = [];
  const db = {
    execute: (query: unknown) => ({
      execute: async () => {
        // The events' ids (a lone event's appears twice: its duplicate check and the JSON).
        calls.push(new Set(JSON.stringify(query).match(/evt_\d+/g)).size);
        throw error;
      },
    }),
  } as unknown as Db;
  return { db, calls };
}

describe("OneCallBatcher failures", () => {
  it("a batch that fails for a reason of its own is retried event by event", async () => {
    const { db, calls } = failingDb(Object.assign(new Error("value out of range"), { code: "22003" }));
    const batcher = new OneCallBatcher(db, 32, 1);
    const out = await Promise.allSettled([1, 2, 3].map((i) => batcher.settle(event(i))));
    expect(out.every((o) => o.status === "rejected")).toBe(true);
    // [1] alone, then [2, 3] together, then 2 and 3 again, each on its own.
    expect(calls).toEqual([1, 2, 1, 1]);
  });

  it("a batch that fails because the database is out of reach fails every event at once, without retries", async () => {
    const { db, calls } = failingDb(Object.assign(new Error("terminating connection due to administrator command"), { code: "57P01" }));
    const batcher = new OneCallBatcher(db, 32, 1);
    const out = await Promise.allSettled([1, 2, 3].map((i) => batcher.settle(event(i))));
    expect(out.map((o) => (o.status === "rejected" ? (o.reason as { code?: string }).code : "ok"))).toEqual(["57P01", "57P01", "57P01"]);
    expect(calls).toEqual([1, 2]);
  });
});
