import { describe, expect, it } from "vitest";
import { setupIntentVerdict } from "./setup-rules";

describe("setupIntentVerdict", () => {
  it("succeeded with a payment method saves it", () => {
    expect(setupIntentVerdict({ status: "succeeded", payment_method: "pm_1", last_setup_error: null })).toEqual({ kind: "succeeded", paymentMethodId: "pm_1" });
    expect(setupIntentVerdict({ status: "succeeded", payment_method: { id: "pm_2" } as never, last_setup_error: null })).toEqual({ kind: "succeeded", paymentMethodId: "pm_2" });
  });
  it("a last_setup_error is a failure with its decline code; without one it is not tried yet", () => {
    expect(
      setupIntentVerdict({ status: "requires_payment_method", payment_method: null, last_setup_error: { type: "card_error", code: "card_declined", decline_code: "insufficient_funds", message: "Your card has insufficient funds." } }),
    ).toEqual({ kind: "failed", code: "insufficient_funds", message: "Your card has insufficient funds." });
    expect(setupIntentVerdict({ status: "requires_payment_method", payment_method: null, last_setup_error: { type: "card_error" } })).toEqual({
      kind: "failed",
      code: "card_error",
      message: "The card could not be saved.",
    });
    expect(setupIntentVerdict({ status: "requires_payment_method", payment_method: null, last_setup_error: null })).toEqual({ kind: "pending" });
  });
  it("authentication, processing and cancellation", () => {
    expect(setupIntentVerdict({ status: "requires_action", payment_method: "pm_1", last_setup_error: null }).kind).toBe("requires_action");
    expect(setupIntentVerdict({ status: "processing", payment_method: "pm_1", last_setup_error: null }).kind).toBe("pending");
    expect(setupIntentVerdict({ status: "requires_confirmation", payment_method: "pm_1", last_setup_error: null }).kind).toBe("pending");
    expect(setupIntentVerdict({ status: "canceled", payment_method: null, last_setup_error: null }).kind).toBe("canceled");
    // A succeeded intent without a payment method is not something to save.
    expect(setupIntentVerdict({ status: "succeeded", payment_method: null, last_setup_error: null }).kind).toBe("pending");
  });
});
