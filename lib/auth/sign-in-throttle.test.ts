import { describe, expect, it } from "vitest";
import { ACCOUNT_FAILURE_LIMIT, ADDRESS_FAILURE_LIMIT, clientAddress, signInThrottle } from "./sign-in-throttle";

describe("signInThrottle", () => {
  it("allows up to the limits and refuses at them, account first", () => {
    expect(signInThrottle({ accountFailures: ACCOUNT_FAILURE_LIMIT - 1, addressFailures: ADDRESS_FAILURE_LIMIT - 1 })).toEqual({ limited: false });
    expect(signInThrottle({ accountFailures: ACCOUNT_FAILURE_LIMIT, addressFailures: 0 })).toEqual({ limited: true, scope: "account" });
    expect(signInThrottle({ accountFailures: 0, addressFailures: ADDRESS_FAILURE_LIMIT })).toEqual({ limited: true, scope: "address" });
    expect(signInThrottle({ accountFailures: ACCOUNT_FAILURE_LIMIT, addressFailures: ADDRESS_FAILURE_LIMIT })).toMatchObject({ scope: "account" });
  });
});

describe("clientAddress", () => {
  it("takes the first X-Forwarded-For hop, then X-Real-IP, then unknown", () => {
    expect(clientAddress(new Headers({ "x-forwarded-for": "203.0.113.7, 10.0.0.1", "x-real-ip": "10.0.0.2" }))).toBe("203.0.113.7");
    expect(clientAddress({ "x-forwarded-for": " 2001:db8::1 " })).toBe("2001:db8::1");
    expect(clientAddress({ "x-real-ip": "198.51.100.4" })).toBe("198.51.100.4");
    expect(clientAddress({ "x-forwarded-for": "" })).toBe("unknown");
    expect(clientAddress(undefined)).toBe("unknown");
    expect(clientAddress({ "x-forwarded-for": "x".repeat(500) })).toHaveLength(64);
  });
});
