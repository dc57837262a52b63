import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { COUPON_FAILURE_LIMIT, couponThrottle, evaluateCoupon, normalizeCouponCode, type CouponFacts, type CouponTerms } from "./rules";

const now = new Date("2026-06-01T12:00:00Z");
const base: CouponTerms = {
  code: "SPRING20",
  active: true,
  percentOff: 20,
  amountOff: null,
  currency: null,
  maxRedemptions: null,
  expiresAt: null,
  firstPurchaseOnly: false,
  oncePerOrg: false,
};
const facts: CouponFacts = { now, redemptionsInUse: 0, orgHasPurchased: false, orgHasFirstPurchaseInProgress: false, orgHasUsedCoupon: false, subtotal: 4900, currency: "usd" };

describe("evaluateCoupon", () => {
  it("applies percent-off, rounding half up", () => {
    expect(evaluateCoupon(base, facts)).toEqual({ ok: true, discount: 980, total: 3920 });
    expect(evaluateCoupon({ ...base, percentOff: 15 }, { ...facts, subtotal: 1999 })).toEqual({ ok: true, discount: 300, total: 1699 });
  });
  it("applies amount-off in the coupon's currency, never more than the subtotal allows", () => {
    const c = { ...base, percentOff: null, amountOff: 1000, currency: "usd" };
    expect(evaluateCoupon(c, facts)).toEqual({ ok: true, discount: 1000, total: 3900 });
    expect(evaluateCoupon(c, { ...facts, currency: "eur" })).toMatchObject({ ok: false, reason: "currency_mismatch" });
  });
  it("refuses each broken rule with its own reason and message", () => {
    const cases: [CouponTerms | null, Partial<CouponFacts>, string, RegExp][] = [
      [null, {}, "not_found", /don't recognise/],
      [{ ...base, active: false }, {}, "inactive", /no longer active/],
      [{ ...base, expiresAt: new Date("2026-05-31T00:00:00Z") }, {}, "expired", /expired on May 31, 2026/],
      [{ ...base, expiresAt: now }, {}, "expired", /expired/],
      [{ ...base, maxRedemptions: 3 }, { redemptionsInUse: 3 }, "exhausted", /redemption limit/],
      [{ ...base, firstPurchaseOnly: true }, { orgHasPurchased: true }, "first_purchase_only", /first purchase/],
      [{ ...base, firstPurchaseOnly: true }, { orgHasFirstPurchaseInProgress: true }, "first_purchase_in_progress", /first purchase.*another checkout.*under way/],
      [{ ...base, oncePerOrg: true }, { orgHasUsedCoupon: true }, "already_used", /already used/],
      [{ ...base, percentOff: 100 }, {}, "below_minimum", /minimum charge of \$0\.50/],
    ];
    for (const [coupon, f, reason, msg] of cases) {
      const r = evaluateCoupon(coupon, { ...facts, ...f }, "spring20");
      expect(r).toMatchObject({ ok: false, reason });
      if (!r.ok) expect(r.message).toMatch(msg);
    }
  });
  it("accepts under the cap, not-yet-expired and first purchases", () => {
    expect(evaluateCoupon({ ...base, maxRedemptions: 3, expiresAt: new Date("2026-06-02T00:00:00Z"), firstPurchaseOnly: true, oncePerOrg: true }, { ...facts, redemptionsInUse: 2 }).ok).toBe(true);
  });
  it("total + discount always equals the subtotal and stays chargeable", () => {
    fc.assert(
      fc.property(fc.integer({ min: 50, max: 10_000_000 }), fc.integer({ min: 1, max: 100 }), (subtotal, pct) => {
        const r = evaluateCoupon({ ...base, percentOff: pct }, { ...facts, subtotal });
        return r.ok ? r.total + r.discount === subtotal && r.total >= 50 : r.reason === "below_minimum";
      }),
    );
  });
  it("uses the purchase currency's minimum charge, not a USD rule", () => {
    // ¥5000 with 99% off leaves ¥50: exactly Stripe's JPY minimum (a USD rule would read it as $0.50).
    expect(evaluateCoupon({ ...base, percentOff: 99 }, { ...facts, subtotal: 5000, currency: "jpy" })).toEqual({ ok: true, discount: 4950, total: 50 });
    const r = evaluateCoupon({ ...base, percentOff: 99 }, { ...facts, subtotal: 4000, currency: "jpy" });
    expect(r).toMatchObject({ ok: false, reason: "below_minimum", message: expect.stringMatching(/minimum charge of ¥50/) });
    // £0.30 is enough in GBP, though below the USD minimum.
    expect(evaluateCoupon({ ...base, percentOff: 70 }, { ...facts, subtotal: 100, currency: "gbp" })).toEqual({ ok: true, discount: 70, total: 30 });
  });
  it("normalises codes", () => {
    expect(normalizeCouponCode("  spring20 ")).toBe("SPRING20");
  });
});

describe("couponThrottle", () => {
  it("allows up to the limit of failures in the window, then says when to retry", () => {
    const fails = (n: number, minutesAgo = 1) => Array.from({ length: n }, () => new Date(now.getTime() - minutesAgo * 60_000));
    expect(couponThrottle(fails(COUPON_FAILURE_LIMIT - 1), now).limited).toBe(false);
    const r = couponThrottle(fails(COUPON_FAILURE_LIMIT), now);
    expect(r).toMatchObject({ limited: true });
    if (r.limited) expect(r.message).toMatch(/Try again in 14 minutes/);
    expect(couponThrottle(fails(COUPON_FAILURE_LIMIT, 16), now).limited).toBe(false);
  });
});
