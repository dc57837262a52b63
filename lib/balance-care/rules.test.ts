import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { crossedBelow, depletionForecastDays, forecastSentence } from "./rules";

describe("crossedBelow", () => {
  it("is true only when the balance goes from at-or-above to below", () => {
    expect(crossedBelow(100, 40, 50)).toBe(true);
    expect(crossedBelow(50, 49, 50)).toBe(true);
    expect(crossedBelow(49, 10, 50)).toBe(false); // already below: not a new crossing
    expect(crossedBelow(100, 50, 50)).toBe(false); // at the threshold is not below
    expect(crossedBelow(100, 40, null)).toBe(false);
  });
  it("a run of debits crosses exactly once", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10_000 }), fc.array(fc.integer({ min: 1, max: 500 }), { maxLength: 60 }), fc.integer({ min: 1, max: 10_000 }), (start, debits, threshold) => {
        let balance = start;
        let crossings = 0;
        for (const d of debits) {
          if (balance < d) continue; // a guarded debit that cannot be paid does not happen
          if (crossedBelow(balance, balance - d, threshold)) crossings++;
          balance -= d;
        }
        return crossings === (start >= threshold && balance < threshold ? 1 : 0);
      }),
    );
  });
});

describe("depletionForecastDays", () => {
  it("divides the balance by the average daily spend, rounding down", () => {
    expect(depletionForecastDays(700, 700)).toBe(7);
    expect(depletionForecastDays(1000, 700)).toBe(10);
    expect(depletionForecastDays(99, 700)).toBe(0);
    expect(depletionForecastDays(100, 700)).toBe(1);
  });
  it("has no forecast without spending, and zero days at a zero balance", () => {
    expect(depletionForecastDays(500, 0)).toBeNull();
    expect(depletionForecastDays(0, 70)).toBe(0);
    expect(depletionForecastDays(-5, 70)).toBe(0);
  });
  it("never promises more than the balance would pay for", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10_000_000 }), fc.integer({ min: 1, max: 10_000_000 }), (balance, spent) => {
        const days = depletionForecastDays(balance, spent)!;
        return Number.isInteger(days) && days >= 0 && (days * spent) / 7 <= balance && ((days + 1) * spent) / 7 > balance;
      }),
    );
  });
  it("reads as a sentence", () => {
    expect(forecastSentence(12, 500)).toBe("At the last 7 days' pace, credits last about 12 days.");
    expect(forecastSentence(1, 500)).toBe("At the last 7 days' pace, credits last about 1 day.");
    expect(forecastSentence(0, 5)).toBe("At the last 7 days' pace, credits last less than a day.");
    expect(forecastSentence(null, 500)).toBe("No credits spent in the last 7 days.");
    expect(forecastSentence(0, 0)).toBe("Credits are used up.");
  });
});
