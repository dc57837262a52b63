import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { campaignsToResume } from "./rules";

const at = (m: number) => new Date(Date.UTC(2026, 0, 1, 0, m));

describe("campaignsToResume", () => {
  it("resumes nothing when the balance covers no campaign", () => {
    expect(campaignsToResume(0, [{ id: "a", costPerDelivery: 10, pausedAt: at(1) }])).toEqual([]);
    expect(campaignsToResume(9, [{ id: "a", costPerDelivery: 10, pausedAt: at(1) }])).toEqual([]);
  });
  it("resumes a campaign exactly covered", () => {
    expect(campaignsToResume(10, [{ id: "a", costPerDelivery: 10, pausedAt: at(1) }])).toEqual(["a"]);
  });
  it("resumes in pause order while the balance covers each next delivery", () => {
    const paused = [
      { id: "late", costPerDelivery: 60, pausedAt: at(3) },
      { id: "early", costPerDelivery: 60, pausedAt: at(1) },
      { id: "cheap", costPerDelivery: 30, pausedAt: at(2) },
    ];
    expect(campaignsToResume(100, paused)).toEqual(["early", "cheap"]);
    expect(campaignsToResume(1000, paused)).toEqual(["early", "cheap", "late"]);
  });
  it("never resumes more than the balance covers", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: -100, max: 5000 }),
        fc.array(fc.record({ id: fc.uuid(), costPerDelivery: fc.integer({ min: 1, max: 500 }), pausedAt: fc.date({ noInvalidDate: true }) }), { maxLength: 20 }),
        (balance, paused) => {
          const ids = new Set(campaignsToResume(balance, paused));
          const cost = paused.filter((p) => ids.has(p.id)).reduce((s, p) => s + p.costPerDelivery, 0);
          return cost <= Math.max(balance, 0);
        },
      ),
    );
  });
});
