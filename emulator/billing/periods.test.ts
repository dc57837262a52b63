// Billing periods: calendar months from the anchor with month-end clamping, years, proration shares.
import { describe, expect, it } from "vitest";
import { addInterval, periodEnd, remainingFraction } from "./periods";

const t = (y: number, m: number, d: number, h = 0) => Date.UTC(y, m - 1, d, h) / 1000;

describe("periods", () => {
  it("adds calendar months from the anchor, clamping to the month's last day without drifting", () => {
    const jan31 = t(2026, 1, 31, 12);
    expect(addInterval(jan31, "month", 1)).toBe(t(2026, 2, 28, 12));
    expect(addInterval(jan31, "month", 2)).toBe(t(2026, 3, 31, 12));
    expect(addInterval(t(2028, 1, 31), "month", 1)).toBe(t(2028, 2, 29));
    expect(addInterval(t(2028, 2, 29), "year", 1)).toBe(t(2029, 2, 28));
    expect(addInterval(t(2026, 12, 15), "month", 1)).toBe(t(2027, 1, 15));
    expect(addInterval(t(2026, 1, 1), "week", 2)).toBe(t(2026, 1, 15));
    expect(addInterval(t(2026, 1, 1), "day", 3)).toBe(t(2026, 1, 4));
  });

  it("finds the period end after a start, counting from the anchor", () => {
    const anchor = t(2026, 1, 31);
    expect(periodEnd(anchor, t(2026, 2, 28), "month", 1)).toBe(t(2026, 3, 31));
    expect(periodEnd(anchor, anchor, "month", 1)).toBe(t(2026, 2, 28));
    expect(periodEnd(anchor, anchor, "month", 3)).toBe(t(2026, 4, 30));
  });

  it("gives the share of the period left, within [0, 1]", () => {
    expect(remainingFraction(0, 100, 25)).toBe(0.75);
    expect(remainingFraction(0, 100, -5)).toBe(1);
    expect(remainingFraction(0, 100, 150)).toBe(0);
    expect(remainingFraction(10, 10, 10)).toBe(0);
  });
});
