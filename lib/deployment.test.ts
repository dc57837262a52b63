import { describe, expect, it } from "vitest";
import { demoAccessAllowed, demoProblems, deploymentOf, deploymentProblems, productionProblems, signInAllowedFor } from "./deployment";

const good = {
  DATABASE_URL: "postgres://app:secret@db.internal:5432/creditloop",
  STRIPE_SECRET_KEY: "sk_live_abc",
  NEXT_PUBLIC_STRIPE_PUBLISHABLE_KEY: "pk_live_abc",
  STRIPE_WEBHOOK_SECRET: "whsec_abc",
  NEXTAUTH_SECRET: "x".repeat(32),
  NEXTAUTH_URL: "https://app.creditloop.example",
};

describe("deploymentOf", () => {
  it("takes CREDITLOOP_DEPLOYMENT, else production under NODE_ENV=production, else dev", () => {
    expect(deploymentOf({ CREDITLOOP_DEPLOYMENT: "preview", NODE_ENV: "production" })).toBe("preview");
    expect(deploymentOf({ CREDITLOOP_DEPLOYMENT: "dev" })).toBe("dev");
    expect(deploymentOf({ NODE_ENV: "production" })).toBe("production");
    expect(deploymentOf({ NODE_ENV: "development" })).toBe("dev");
    expect(deploymentOf({})).toBe("dev");
  });
  it("treats an unknown deployment name as production", () => {
    expect(deploymentOf({ CREDITLOOP_DEPLOYMENT: "staging", NODE_ENV: "development" })).toBe("production");
  });
});

describe("demo access", () => {
  it("is allowed in dev and preview only", () => {
    expect(demoAccessAllowed({ CREDITLOOP_DEPLOYMENT: "dev" })).toBe(true);
    expect(demoAccessAllowed({ CREDITLOOP_DEPLOYMENT: "preview", NODE_ENV: "production" })).toBe(true);
    expect(demoAccessAllowed({ CREDITLOOP_DEPLOYMENT: "production" })).toBe(false);
    expect(demoAccessAllowed({ NODE_ENV: "production" })).toBe(false);
  });
  it("refuses demo sign-ins in production, whatever the case of the address", () => {
    const prod = { CREDITLOOP_DEPLOYMENT: "production" };
    expect(signInAllowedFor("staff@creditloop.test", prod)).toBe(false);
    expect(signInAllowedFor("  Staff@CreditLoop.TEST ", prod)).toBe(false);
    expect(signInAllowedFor("ops@creditloop.example", prod)).toBe(true);
    expect(signInAllowedFor("staff@creditloop.test", { CREDITLOOP_DEPLOYMENT: "preview" })).toBe(true);
  });
});

describe("productionProblems", () => {
  it("accepts a complete live (or complete test-mode) environment", () => {
    expect(productionProblems(good)).toEqual([]);
    expect(productionProblems({ ...good, CREDITLOOP_DEPLOYMENT: "production" })).toEqual([]);
    expect(productionProblems({ ...good, STRIPE_SECRET_KEY: "rk_test_1", NEXT_PUBLIC_STRIPE_PUBLISHABLE_KEY: "pk_test_1" })).toEqual([]);
  });
  it("names every missing variable, one line each", () => {
    const problems = productionProblems({});
    expect(problems).toHaveLength(6);
    for (const name of ["DATABASE_URL", "STRIPE_SECRET_KEY", "NEXT_PUBLIC_STRIPE_PUBLISHABLE_KEY", "STRIPE_WEBHOOK_SECRET", "NEXTAUTH_SECRET", "NEXTAUTH_URL"]) {
      expect(problems.filter((p) => p.startsWith(`${name} is required`))).toHaveLength(1);
    }
    expect(problems.every((p) => !p.includes("\n"))).toBe(true);
  });
  it("counts blank values as missing", () => {
    expect(productionProblems({ ...good, STRIPE_WEBHOOK_SECRET: "  " })).toEqual([expect.stringMatching(/^STRIPE_WEBHOOK_SECRET is required/)]);
  });
  it("refuses keys of different modes, both ways", () => {
    expect(productionProblems({ ...good, NEXT_PUBLIC_STRIPE_PUBLISHABLE_KEY: "pk_test_1" })).toEqual([
      expect.stringMatching(/STRIPE_SECRET_KEY is a live key but NEXT_PUBLIC_STRIPE_PUBLISHABLE_KEY is a test key/),
    ]);
    expect(productionProblems({ ...good, STRIPE_SECRET_KEY: "sk_test_1" })).toEqual([
      expect.stringMatching(/STRIPE_SECRET_KEY is a test key but NEXT_PUBLIC_STRIPE_PUBLISHABLE_KEY is a live key/),
    ]);
  });
  it("refuses the emulator and a non-production deployment name", () => {
    expect(productionProblems({ ...good, STRIPE_EMULATOR_URL: "http://127.0.0.1:12111" })).toEqual([expect.stringMatching(/^STRIPE_EMULATOR_URL is set/)]);
    expect(productionProblems({ ...good, CREDITLOOP_DEPLOYMENT: "preview" })).toEqual([expect.stringMatching(/^CREDITLOOP_DEPLOYMENT=preview is not production/)]);
  });
  it("refuses malformed values", () => {
    const problems = productionProblems({
      ...good,
      DATABASE_URL: "mysql://x",
      STRIPE_SECRET_KEY: "pk_live_oops",
      NEXT_PUBLIC_STRIPE_PUBLISHABLE_KEY: "sk_live_oops",
      NEXTAUTH_SECRET: "short",
      NEXTAUTH_URL: "app.example",
    });
    expect(problems).toEqual([
      "DATABASE_URL must be a postgres:// URL.",
      "STRIPE_SECRET_KEY must start with sk_live_, sk_test_, rk_live_ or rk_test_.",
      "NEXT_PUBLIC_STRIPE_PUBLISHABLE_KEY must start with pk_live_ or pk_test_.",
      "NEXTAUTH_SECRET must be at least 32 characters.",
      "NEXTAUTH_URL must be an http(s) URL.",
    ]);
  });
});

describe("demoProblems / deploymentProblems", () => {
  it("refuses live keys in dev and preview", () => {
    expect(demoProblems({ CREDITLOOP_DEPLOYMENT: "dev", STRIPE_SECRET_KEY: "sk_test_1" })).toEqual([]);
    expect(demoProblems({ CREDITLOOP_DEPLOYMENT: "preview", STRIPE_SECRET_KEY: "sk_live_1", NEXT_PUBLIC_STRIPE_PUBLISHABLE_KEY: "pk_live_1" })).toEqual([
      expect.stringMatching(/^STRIPE_SECRET_KEY is a live key: a preview deployment/),
      expect.stringMatching(/^NEXT_PUBLIC_STRIPE_PUBLISHABLE_KEY is a live key/),
    ]);
  });
  it("applies the production rules to production and the demo rules otherwise", () => {
    expect(deploymentProblems({ NODE_ENV: "production" })).toHaveLength(6);
    expect(deploymentProblems({ CREDITLOOP_DEPLOYMENT: "preview", NODE_ENV: "production", STRIPE_EMULATOR_URL: "http://127.0.0.1:1" })).toEqual([]);
  });
});
