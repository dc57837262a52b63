import { describe, expect, it } from "vitest";
import { parseEnv } from "./env";

const base = {
  DATABASE_URL: "postgres://u:p@localhost:5432/db",
  STRIPE_WEBHOOK_SECRET: "whsec_a,whsec_b",
  NEXTAUTH_SECRET: "a-long-enough-secret",
  STRIPE_EMULATOR_URL: "http://127.0.0.1:12111",
};

describe("parseEnv", () => {
  it("accepts local emulator mode and real mode", () => {
    expect(parseEnv(base).STRIPE_EMULATOR_URL).toBe("http://127.0.0.1:12111");
    const real = parseEnv({ ...base, STRIPE_EMULATOR_URL: "", STRIPE_SECRET_KEY: "sk_test_123", NEXT_PUBLIC_STRIPE_PUBLISHABLE_KEY: "pk_test_1" });
    expect(real.STRIPE_SECRET_KEY).toBe("sk_test_123");
  });
  it("names every missing or malformed variable", () => {
    expect(() => parseEnv({})).toThrow(/DATABASE_URL is required[\s\S]*STRIPE_WEBHOOK_SECRET is required[\s\S]*NEXTAUTH_SECRET is required/);
    expect(() => parseEnv({ ...base, STRIPE_EMULATOR_URL: undefined })).toThrow(/STRIPE_EMULATOR_URL is required when STRIPE_SECRET_KEY is not set/);
    expect(() => parseEnv({ ...base, STRIPE_SECRET_KEY: "pk_test_oops" })).toThrow(/STRIPE_SECRET_KEY must start with sk_test_/);
  });
});
