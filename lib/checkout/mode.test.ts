import { describe, expect, it } from "vitest";
import { hostedCheckoutAllowed, resolveCheckoutMode } from "./mode";

describe("checkout mode", () => {
  it("production uses the configured mode whatever the request asks", () => {
    expect(resolveCheckoutMode("embedded", "production", "hosted")).toBe("embedded");
    expect(resolveCheckoutMode("hosted", "production", "embedded")).toBe("hosted");
    expect(hostedCheckoutAllowed("embedded", "production")).toBe(false);
    expect(hostedCheckoutAllowed("hosted", "production")).toBe(true);
  });
  it("dev and preview take a valid per-request override, and ignore anything else", () => {
    for (const d of ["dev", "preview"] as const) {
      expect(resolveCheckoutMode("embedded", d, "hosted")).toBe("hosted");
      expect(resolveCheckoutMode("hosted", d, "embedded")).toBe("embedded");
      expect(resolveCheckoutMode("embedded", d, "HOSTED")).toBe("embedded");
      expect(resolveCheckoutMode("embedded", d, ["hosted"])).toBe("embedded");
      expect(resolveCheckoutMode("embedded", d, undefined)).toBe("embedded");
      expect(hostedCheckoutAllowed("embedded", d)).toBe(true);
    }
  });
});
