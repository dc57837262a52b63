import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { PLANS, annualSaving, planByKey } from "../plans/catalogue";
import { addMonthsUtc, changeKind, grantMonths, grantWindow, invoiceGrant, prorationCredits, settlingPlanId } from "./rules";

const T = (iso: string) => Date.parse(iso) / 1000;
const growth = planByKey("growth")!;
const scale = planByKey("scale")!;
const starter = planByKey("starter")!;

describe("catalogue", () => {
  it("has unique keys and lookup keys, annual cheaper than twelve months", () => {
    const keys = PLANS.flatMap((p) => [p.monthly.lookupKey, p.annual.lookupKey]);
    expect(new Set(keys).size).toBe(keys.length);
    for (const p of PLANS) expect(annualSaving(p).amount).toBeGreaterThan(0);
    expect(annualSaving(growth)).toEqual({ amount: 99_00 * 12 - 990_00, percent: 16 });
  });
});

describe("changeKind", () => {
  it("upgrades now, downgrades and annual → monthly at period end", () => {
    expect(changeKind({ planKey: "growth", interval: "month" }, { planKey: "scale", interval: "month" })).toBe("now");
    expect(changeKind({ planKey: "growth", interval: "month" }, { planKey: "growth", interval: "year" })).toBe("now");
    expect(changeKind({ planKey: "growth", interval: "month" }, { planKey: "starter", interval: "month" })).toBe("at_period_end");
    expect(changeKind({ planKey: "growth", interval: "year" }, { planKey: "growth", interval: "month" })).toBe("at_period_end");
    expect(changeKind({ planKey: "growth", interval: "year" }, { planKey: "scale", interval: "month" })).toBe("at_period_end");
    expect(changeKind({ planKey: "growth", interval: "month" }, { planKey: "starter", interval: "year" })).toBe("at_period_end");
    expect(changeKind({ planKey: "growth", interval: "month" }, { planKey: "growth", interval: "month" })).toBe("none");
  });
});

describe("prorationCredits", () => {
  const window = { windowStart: T("2026-03-01T00:00:00Z"), windowEnd: T("2026-03-31T00:00:00Z") };
  it("grants the difference for the share of the window left, rounded down", () => {
    expect(prorationCredits({ oldCredits: 4000, newCredits: 15000, ...window, changeAt: T("2026-03-16T00:00:00Z") })).toBe(5500);
    expect(prorationCredits({ oldCredits: 4000, newCredits: 15000, ...window, changeAt: window.windowStart })).toBe(11000);
    expect(prorationCredits({ oldCredits: 4000, newCredits: 15000, ...window, changeAt: window.windowEnd })).toBe(0);
    expect(prorationCredits({ oldCredits: 4000, newCredits: 15000, ...window, changeAt: T("2026-03-11T00:00:01Z") })).toBe(7333);
  });
  it("never grants for a downgrade, never more than the difference, never negative", () => {
    fc.assert(
      fc.property(fc.nat(100_000), fc.nat(100_000), fc.integer({ min: 1, max: 10_000_000 }), fc.integer({ min: -1_000_000, max: 11_000_000 }), (a, b, len, at) => {
        const c = prorationCredits({ oldCredits: a, newCredits: b, windowStart: 0, windowEnd: len, changeAt: at });
        expect(Number.isInteger(c)).toBe(true);
        expect(c).toBeGreaterThanOrEqual(0);
        expect(c).toBeLessThanOrEqual(Math.max(0, b - a));
        if (b <= a) expect(c).toBe(0);
      }),
    );
  });
});

describe("months of an annual period", () => {
  it("adds calendar months, clamping the day", () => {
    expect(new Date(addMonthsUtc(T("2026-01-31T10:00:00Z"), 1) * 1000).toISOString()).toBe("2026-02-28T10:00:00.000Z");
    expect(new Date(addMonthsUtc(T("2026-03-15T00:00:00Z"), -1) * 1000).toISOString()).toBe("2026-02-15T00:00:00.000Z");
  });
  it("twelve grant months in a year, month 0 at the start", () => {
    const start = T("2026-01-15T00:00:00Z");
    const months = grantMonths(start, addMonthsUtc(start, 12));
    expect(months).toHaveLength(12);
    expect(months[0]).toBe(start);
    expect(new Date(months[11]! * 1000).toISOString()).toBe("2026-12-15T00:00:00.000Z");
  });
  it("an annual plan's grant window is the current month", () => {
    const start = T("2026-01-15T00:00:00Z");
    expect(grantWindow("year", growth, start, addMonthsUtc(start, 12), T("2026-04-20T00:00:00Z"))).toEqual({ start: T("2026-04-15T00:00:00Z"), end: T("2026-05-15T00:00:00Z") });
  });
});

describe("invoiceGrant", () => {
  const s = T("2026-03-01T00:00:00Z");
  const e = T("2026-04-01T00:00:00Z");
  it("a monthly period grants the plan's month", () => {
    expect(invoiceGrant({ id: "in_1", billingReason: "subscription_cycle", lines: [{ lookupKey: growth.monthly.lookupKey, proration: false, amount: 9900, periodStart: s, periodEnd: e }] })).toMatchObject({
      kind: "period",
      credits: 4000,
      laterMonths: [],
    });
  });
  it("an annual period grants month 0 now and schedules eleven more", () => {
    const g = invoiceGrant({ id: "in_2", billingReason: "subscription_create", lines: [{ lookupKey: growth.annual.lookupKey, proration: false, amount: 99000, periodStart: s, periodEnd: addMonthsUtc(s, 12) }] });
    expect(g).toMatchObject({ kind: "period", credits: 4000, interval: "year" });
    expect(g.kind === "period" && g.laterMonths).toHaveLength(11);
  });
  it("a trial start grants trial credits; a $0 line elsewhere grants nothing", () => {
    const line = { lookupKey: starter.monthly.lookupKey, proration: false, amount: 0, periodStart: s, periodEnd: e };
    expect(invoiceGrant({ id: "in_3", billingReason: "subscription_create", lines: [line] })).toEqual({ kind: "trial", credits: 200, planKey: "starter" });
    expect(invoiceGrant({ id: "in_4", billingReason: "subscription_cycle", lines: [line] }).kind).toBe("none");
  });
  it("an upgrade's prorations grant the difference for the rest of the period", () => {
    const at = T("2026-03-16T12:00:00Z");
    const g = invoiceGrant({
      id: "in_5",
      billingReason: "subscription_update",
      lines: [
        { lookupKey: growth.monthly.lookupKey, proration: true, amount: -4950, periodStart: at, periodEnd: e },
        { lookupKey: scale.monthly.lookupKey, proration: true, amount: 14950, periodStart: at, periodEnd: e },
      ],
    });
    expect(g).toEqual({ kind: "proration", planKey: "scale", credits: Math.floor((11000 * (e - at)) / (e - s)) });
  });
  it("an invoice without plan lines grants nothing", () => {
    expect(invoiceGrant({ id: "in_6", billingReason: "manual", lines: [{ lookupKey: null, proration: false, amount: 500, periodStart: s, periodEnd: e }] }).kind).toBe("none");
  });
});

describe("settlingPlanId: the plan page shows 'Confirming…' when the payer comes back from paying", () => {
  const waiting = { id: "sub-1", status: "incomplete" };
  it("after hosted Checkout (?checkout=complete)", () => {
    expect(settlingPlanId(waiting, { checkout: "complete" })).toBe("sub-1");
    expect(settlingPlanId({ id: "sub-1", status: "creating" }, { checkout: "complete" })).toBe("sub-1");
  });
  it("after Elements sent the payer to their bank and back (?redirect_status=succeeded or processing)", () => {
    expect(settlingPlanId(waiting, { redirect_status: "succeeded" })).toBe("sub-1");
    expect(settlingPlanId(waiting, { redirect_status: "processing" })).toBe("sub-1");
  });
  it("not after a failed redirect, without a return, or once the plan is no longer waiting", () => {
    expect(settlingPlanId(waiting, { redirect_status: "failed" })).toBeNull();
    expect(settlingPlanId(waiting, {})).toBeNull();
    expect(settlingPlanId({ id: "sub-1", status: "active" }, { checkout: "complete", redirect_status: "succeeded" })).toBeNull();
    expect(settlingPlanId(null, { checkout: "complete" })).toBeNull();
  });
});
