import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { decideSettlement, declineOf, mismatchOf, type IntentFacts, type PurchaseFacts } from "./decide";

const purchase = (p: Partial<PurchaseFacts> = {}): PurchaseFacts => ({ status: "pending", amount: 4900, currency: "usd", ...p });
const intent = (p: Partial<IntentFacts> = {}): IntentFacts => ({
  id: "pi_1",
  status: "succeeded",
  amount: 4900,
  amount_received: 4900,
  currency: "usd",
  cancellation_reason: null,
  last_payment_error: null,
  ...p,
});
const declined = intent({ status: "requires_payment_method", amount_received: 0, last_payment_error: { type: "card_error", code: "card_declined", decline_code: "insufficient_funds", message: "Your card has insufficient funds." } });

describe("decideSettlement", () => {
  it("grants a matching success, also after a decline or cancellation (money in ⇒ credits in)", () => {
    for (const status of ["pending", "failed", "canceled"] as const) expect(decideSettlement(purchase({ status }), intent())).toEqual({ kind: "grant" });
  });
  it("does nothing more for a purchase already succeeded or in review", () => {
    expect(decideSettlement(purchase({ status: "succeeded" }), intent()).kind).toBe("nothing");
    expect(decideSettlement(purchase({ status: "needs_review" }), intent()).kind).toBe("nothing");
    expect(decideSettlement(purchase({ status: "succeeded" }), declined).kind).toBe("nothing");
    expect(decideSettlement(purchase({ status: "succeeded" }), intent({ status: "canceled" })).kind).toBe("nothing");
  });
  it("sends an amount or currency mismatch to review, never grants it", () => {
    expect(decideSettlement(purchase(), intent({ amount_received: 100 }))).toMatchObject({ kind: "review", reason: expect.stringMatching(/100 usd.*4900 usd/) });
    expect(decideSettlement(purchase(), intent({ currency: "eur" }))).toMatchObject({ kind: "review" });
    expect(decideSettlement(purchase({ currency: "jpy", amount: 500 }), intent({ currency: "JPY", amount_received: 500 }))).toEqual({ kind: "grant" });
  });
  it("a decline fails a pending purchase and asks for the intent to be cancelled; the hold is not released", () => {
    expect(decideSettlement(purchase(), declined)).toEqual({ kind: "decline", code: "insufficient_funds", message: "Your card has insufficient funds.", cancelIntent: true });
    expect(decideSettlement(purchase({ status: "failed" }), declined)).toEqual({ kind: "retry_cancel" });
  });
  it("a cancellation closes a pending purchase and releases the hold of a failed one", () => {
    expect(decideSettlement(purchase(), intent({ status: "canceled", cancellation_reason: "abandoned" }))).toEqual({ kind: "canceled", closePurchase: true, code: "abandoned" });
    expect(decideSettlement(purchase({ status: "failed" }), intent({ status: "canceled" }))).toEqual({ kind: "canceled", closePurchase: false, code: "canceled" });
  });
  it("waits while the intent is in flight or has not been attempted", () => {
    for (const status of ["processing", "requires_action", "requires_confirmation", "requires_capture"] as const)
      expect(decideSettlement(purchase(), intent({ status })).kind).toBe("wait");
    expect(decideSettlement(purchase(), intent({ status: "requires_payment_method", last_payment_error: null })).kind).toBe("wait");
  });
  it("maps declines to the most specific code", () => {
    expect(declineOf({ code: "card_declined", decline_code: "expired_card", message: "m", type: "card_error" })).toEqual({ code: "expired_card", message: "m" });
    expect(declineOf({ code: "authentication_required", decline_code: undefined, message: undefined, type: "card_error" })).toEqual({ code: "authentication_required", message: "The payment failed." });
    expect(declineOf(null)).toEqual({ code: "payment_failed", message: "The payment failed." });
  });

  const statuses = fc.constantFrom("pending", "succeeded", "failed", "canceled", "needs_review" as const);
  const piStatuses = fc.constantFrom("succeeded", "canceled", "processing", "requires_action", "requires_payment_method", "requires_confirmation", "requires_capture" as const);
  it("property: only a succeeded intent with the exact amount and currency is ever granted", () => {
    fc.assert(
      fc.property(statuses, piStatuses, fc.integer({ min: 1, max: 10_000_000 }), fc.integer({ min: 0, max: 10_000_000 }), fc.constantFrom("usd", "eur", "jpy"), fc.constantFrom("usd", "eur", "jpy"), fc.boolean(), (ps, is, amount, received, cur, piCur, withError) => {
        const d = decideSettlement(
          purchase({ status: ps, amount, currency: cur }),
          intent({ status: is, amount_received: received, currency: piCur, last_payment_error: withError ? { type: "card_error", code: "card_declined", message: "no" } : null }),
        );
        if (d.kind === "grant") return is === "succeeded" && received === amount && cur === piCur && ps !== "succeeded" && ps !== "needs_review";
        // Nothing but a cancellation at Stripe ever leads to a release.
        if (d.kind === "canceled") return is === "canceled";
        if (d.kind === "decline") return is === "requires_payment_method" && ps === "pending";
        return true;
      }),
    );
  });
  it("property: a final purchase never goes back to pending, and a succeeded one never changes", () => {
    fc.assert(
      fc.property(piStatuses, fc.boolean(), (is, withError) => {
        const d = decideSettlement(purchase({ status: "succeeded" }), intent({ status: is, last_payment_error: withError ? { type: "card_error", code: "x", message: "y" } : null }));
        return d.kind === "nothing" || d.kind === "wait";
      }),
    );
  });
  it("mismatchOf is null exactly when amount and currency agree", () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 1e7 }), fc.integer({ min: 0, max: 1e7 }), (a, r) => (mismatchOf(purchase({ amount: a }), intent({ amount_received: r })) === null) === (a === r)));
  });
});
