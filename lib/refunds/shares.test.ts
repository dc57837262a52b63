import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { creditsForShare, refundReversalDelta } from "./shares";

describe("refund shares", () => {
  it("whole refund takes every credit; partial rounds down; nothing for nothing", () => {
    expect(creditsForShare({ credits: 500, amount: 4900, share: 4900 })).toBe(500);
    expect(creditsForShare({ credits: 500, amount: 4900, share: 2450 })).toBe(250);
    expect(creditsForShare({ credits: 500, amount: 4900, share: 1 })).toBe(0);
    expect(creditsForShare({ credits: 500, amount: 4900, share: 0 })).toBe(0);
    expect(creditsForShare({ credits: 3, amount: 10, share: 5 })).toBe(1);
  });

  it("partial refunds in any split add up to the whole credits once fully refunded", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1_000_000 }), fc.integer({ min: 1, max: 10_000_000 }), fc.array(fc.integer({ min: 1, max: 1000 }), { minLength: 1, maxLength: 8 }), (credits, amount, weights) => {
        const total = weights.reduce((a, b) => a + b, 0);
        let refunded = 0;
        let reversed = 0;
        weights.forEach((w, i) => {
          refunded = i === weights.length - 1 ? amount : Math.min(amount, refunded + Math.floor((amount * w) / total));
          const d = refundReversalDelta({ credits, amount, amountRefunded: refunded, alreadyReversed: reversed });
          expect(d).toBeGreaterThanOrEqual(0);
          reversed += d;
          expect(reversed).toBeLessThanOrEqual(credits);
        });
        expect(reversed).toBe(credits);
        // A replay of the last total changes nothing.
        expect(refundReversalDelta({ credits, amount, amountRefunded: amount, alreadyReversed: reversed })).toBe(0);
      }),
    );
  });

  it("refuses nonsense", () => {
    expect(() => creditsForShare({ credits: 1, amount: 0, share: 1 })).toThrow(RangeError);
    expect(() => creditsForShare({ credits: 1.5, amount: 10, share: 1 })).toThrow(RangeError);
  });
});
