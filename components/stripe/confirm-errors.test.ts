import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { classifyConfirmError } from "./confirm-errors";

describe("classifyConfirmError", () => {
  it("declines and failed authentication end the checkout; validation keeps it", () => {
    expect(classifyConfirmError({ type: "card_error", code: "card_declined" })).toBe("declined");
    expect(classifyConfirmError({ type: "invalid_request_error", code: "payment_intent_authentication_failure" })).toBe("declined");
    expect(classifyConfirmError({ type: "invalid_request_error", code: "setup_intent_authentication_failure" })).toBe("declined");
    expect(classifyConfirmError({ type: "validation_error", code: "incomplete_number" })).toBe("retry_same");
  });
  it("network, API and rate-limit errors are unknown outcomes (go to the settling page)", () => {
    for (const type of ["api_connection_error", "api_error", "rate_limit_error", "authentication_error", "idempotency_error", "invalid_request_error", undefined])
      expect(classifyConfirmError({ type })).toBe("unknown");
  });
  it("property: only card errors, validation errors and authentication failures are known", () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), (type, code) => {
        const k = classifyConfirmError({ type, code });
        return k === "unknown" || type === "card_error" || type === "validation_error" || code === "payment_intent_authentication_failure" || code === "setup_intent_authentication_failure";
      }),
    );
  });
});
