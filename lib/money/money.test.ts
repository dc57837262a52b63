import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { formatCredits, formatMoney, formatSignedCredits, percentOf } from "./money";

describe("percentOf", () => {
  it("rounds half up to whole minor units", () => {
    expect(percentOf(1999, 10)).toBe(200); // 199.9 -> 200
    expect(percentOf(1005, 10)).toBe(101); // 100.5 -> 101
    expect(percentOf(1004, 10)).toBe(100); // 100.4 -> 100
    expect(percentOf(5000, 100)).toBe(5000);
    expect(percentOf(5000, 0)).toBe(0);
  });
  it("rejects floats and out-of-range percents", () => {
    expect(() => percentOf(10.5, 10)).toThrow(RangeError);
    expect(() => percentOf(100, 101)).toThrow(RangeError);
    expect(() => percentOf(100, 12.5)).toThrow(RangeError);
  });
  it("never exceeds the amount and is an integer", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 100_000_000 }), fc.integer({ min: 0, max: 100 }), (a, p) => {
        const d = percentOf(a, p);
        return Number.isInteger(d) && d >= 0 && d <= a;
      }),
    );
  });
});

describe("formatting", () => {
  it("formats minor units with the currency's digits", () => {
    expect(formatMoney(4900, "usd")).toBe("$49.00");
    expect(formatMoney(123456, "eur", "de-DE").replace(/\s/g, " ")).toBe("1.234,56 €");
    expect(formatMoney(500, "jpy")).toBe("¥500");
  });
  it("groups credits and shows signs", () => {
    expect(formatCredits(12500)).toBe("12,500");
    expect(formatSignedCredits(500)).toBe("+500");
    expect(formatSignedCredits(-40)).toBe("-40");
  });
});

describe("per-currency facts", () => {
  it("knows zero-decimal currencies and per-currency minimums", async () => {
    const { minimumCharge, minorUnitExponent, currencyFacts } = await import("./currencies");
    expect(minorUnitExponent("jpy")).toBe(0);
    expect(minorUnitExponent("usd")).toBe(2);
    expect(minimumCharge("usd")).toBe(50);
    expect(minimumCharge("gbp")).toBe(30);
    expect(minimumCharge("jpy")).toBe(50);
    expect(() => currencyFacts("USD")).toThrow(RangeError);
    expect(() => currencyFacts("xyz")).toThrow(RangeError);
  });
  it("formats by the currency's exponent: 500 JPY is ¥500, not ¥5", () => {
    expect(formatMoney(500, "jpy")).toBe("¥500");
    expect(formatMoney(4900, "eur")).toBe("€49.00");
  });
});
