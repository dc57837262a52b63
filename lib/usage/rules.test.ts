import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { groupForBatches, meterEventTime, meteringConfig, pushCron, splitDelivery, subscriptionAllowsOverage } from "./rules";

describe("splitDelivery", () => {
  it("the balance pays what it can, down to zero; the rest is overage", () => {
    expect(splitDelivery(25, 40)).toEqual({ debit: 25, overage: 15 });
    expect(splitDelivery(0, 40)).toEqual({ debit: 0, overage: 40 });
  });
  it("no overage when the balance covers the delivery, or is negative", () => {
    expect(splitDelivery(40, 40)).toBeNull();
    expect(splitDelivery(100, 40)).toBeNull();
    expect(splitDelivery(-1, 40)).toBeNull();
  });
  it("debit + overage = cost, the debit never exceeds the balance, never negative (property)", () => {
    fc.assert(
      fc.property(fc.integer({ min: -1000, max: 100_000 }), fc.integer({ min: 1, max: 100_000 }), (balance, cost) => {
        const s = splitDelivery(balance, cost);
        if (balance < 0 || balance >= cost) return s === null;
        return s !== null && s.debit + s.overage === cost && s.debit === balance && s.overage > 0 && balance - s.debit === 0;
      }),
    );
  });
  it("refuses nonsense", () => {
    expect(() => splitDelivery(1.5, 2)).toThrow(RangeError);
    expect(() => splitDelivery(1, 0)).toThrow(RangeError);
  });
});

describe("subscriptionAllowsOverage", () => {
  it("only an active subscription", () => {
    expect(["active", "trialing", "past_due", "unpaid", "paused", "incomplete", "canceled", "creating"].filter(subscriptionAllowsOverage)).toEqual(["active"]);
  });
});

describe("meterEventTime", () => {
  const start = new Date("2026-11-01T00:00:00Z");
  const end = new Date("2026-12-01T00:00:00Z");
  it("keeps the record's time inside the period (whole seconds)", () => {
    expect(meterEventTime(new Date("2026-11-10T12:00:00.700Z"), start, end).toISOString()).toBe("2026-11-10T12:00:00.000Z");
    expect(meterEventTime(new Date("2026-10-30T00:00:00Z"), start, end)).toEqual(start);
    expect(meterEventTime(new Date("2026-12-03T00:00:00Z"), start, end).toISOString()).toBe("2026-11-30T23:59:59.000Z");
  });
  it("is always within [start, end) (property)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 4e9 }), fc.integer({ min: 0, max: 4e9 }), fc.integer({ min: 1, max: 1e8 }), (t, s, len) => {
        const at = meterEventTime(new Date(t * 1000), new Date(s * 1000), new Date((s + len) * 1000)).getTime() / 1000;
        return at >= s && at < s + len;
      }),
    );
  });
});

describe("groupForBatches", () => {
  const p1 = { periodStart: new Date("2026-11-01T00:00:00Z"), periodEnd: new Date("2026-12-01T00:00:00Z") };
  const p2 = { periodStart: new Date("2026-12-01T00:00:00Z"), periodEnd: new Date("2027-01-01T00:00:00Z") };
  it("one batch per customer and period, summing credits, stamped with the latest record", () => {
    const batches = groupForBatches(
      [
      { id: "a", orgId: "o1", stripeCustomerId: "cus_1", ...p1, credits: 5, recordedAt: new Date("2026-11-03T00:00:00Z") },
      { id: "b", orgId: "o1", stripeCustomerId: "cus_1", ...p1, credits: 7, recordedAt: new Date("2026-11-05T00:00:00Z") },
      { id: "c", orgId: "o1", stripeCustomerId: "cus_1", ...p2, credits: 1, recordedAt: new Date("2026-12-02T00:00:00Z") },
      { id: "d", orgId: "o2", stripeCustomerId: "cus_2", ...p1, credits: 2, recordedAt: new Date("2026-11-04T00:00:00Z") },
      ],
      new Date("2026-11-06T00:00:00Z"),
    );
    expect(batches.map((b) => [b.stripeCustomerId, b.credits, b.recordIds, b.eventAt.toISOString()])).toEqual([
      ["cus_1", 12, ["a", "b"], "2026-11-05T00:00:00.000Z"],
      ["cus_1", 1, ["c"], "2026-12-02T00:00:00.000Z"],
      ["cus_2", 2, ["d"], "2026-11-04T00:00:00.000Z"],
    ]);
  });
});

describe("groupForBatches, late", () => {
  it("usage batched after its period's invoice closed is stamped now (the next invoice), not lost", () => {
    const periodStart = new Date("2026-11-01T00:00:00Z");
    const periodEnd = new Date("2026-12-01T00:00:00Z");
    const r = { id: "a", orgId: "o", stripeCustomerId: "cus_1", periodStart, periodEnd, credits: 3, recordedAt: new Date("2026-11-30T23:59:00Z") };
    expect(groupForBatches([r], new Date("2026-12-01T00:30:00Z"))[0]!.eventAt.toISOString()).toBe("2026-11-30T23:59:00.000Z");
    expect(groupForBatches([r], new Date("2026-12-01T02:00:00.400Z"))[0]!.eventAt.toISOString()).toBe("2026-12-01T02:00:00.000Z");
  });
});

describe("meteringConfig", () => {
  it("defaults, overrides and errors naming the variable", () => {
    expect(meteringConfig({})).toEqual({ pushEveryMinutes: 5, pushUnits: 1000 });
    expect(meteringConfig({ METER_PUSH_EVERY_MINUTES: "10", METER_PUSH_UNITS: "250" })).toEqual({ pushEveryMinutes: 10, pushUnits: 250 });
    expect(() => meteringConfig({ METER_PUSH_EVERY_MINUTES: "60" })).toThrow(/METER_PUSH_EVERY_MINUTES/);
    expect(() => meteringConfig({ METER_PUSH_UNITS: "0" })).toThrow(/METER_PUSH_UNITS/);
    expect(() => meteringConfig({ METER_PUSH_UNITS: "1.5" })).toThrow(/METER_PUSH_UNITS/);
    expect(pushCron({ pushEveryMinutes: 5, pushUnits: 1 })).toBe("*/5 * * * *");
  });
});
