// `npm start` refuses a bad production environment end to end: the real npm script, spawned with
// an environment lacking what production needs, exits non-zero at once with one line per problem
// (the check runs before any build, database or Next is touched).
import { spawnSync } from "node:child_process";
import path from "node:path";
import { describe, expect, it } from "vitest";

const root = path.resolve(import.meta.dirname, "..");

function npmStart(env: Record<string, string>) {
  const r = spawnSync("npm", ["start", "--silent"], {
    cwd: root,
    // Only what npm and node need: nothing of the caller's Stripe/database settings leaks in.
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp", ...env } as unknown as NodeJS.ProcessEnv,
    encoding: "utf8",
    timeout: 60_000,
  });
  const lines = r.stderr.split("\n").filter((l) => l.startsWith("npm start: "));
  return { status: r.status, lines, stderr: r.stderr };
}

describe("npm start with a bad environment", () => {
  it("exits non-zero with one line per missing variable", () => {
    const r = npmStart({});
    expect(r.status, r.stderr).not.toBe(0);
    expect(r.status).not.toBeNull();
    for (const name of ["DATABASE_URL", "STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET", "NEXTAUTH_SECRET", "NEXTAUTH_URL"]) {
      expect(r.lines.filter((l) => l.startsWith(`npm start: ${name} is required`)), r.stderr).toHaveLength(1);
    }
  }, 60_000);

  it("refuses a live secret key with a test publishable key, and the emulator", () => {
    const r = npmStart({
      DATABASE_URL: "postgres://app:secret@127.0.0.1:1/creditloop",
      STRIPE_SECRET_KEY: "sk_live_x",
      NEXT_PUBLIC_STRIPE_PUBLISHABLE_KEY: "pk_test_x",
      STRIPE_WEBHOOK_SECRET: "whsec_x",
      NEXTAUTH_SECRET: "s".repeat(40),
      NEXTAUTH_URL: "https://app.example",
      STRIPE_EMULATOR_URL: "http://127.0.0.1:12111",
    });
    expect(r.status, r.stderr).not.toBe(0);
    expect(r.lines.some((l) => /STRIPE_SECRET_KEY is a live key but NEXT_PUBLIC_STRIPE_PUBLISHABLE_KEY is a test key/.test(l)), r.stderr).toBe(true);
    expect(r.lines.some((l) => l.startsWith("npm start: STRIPE_EMULATOR_URL is set")), r.stderr).toBe(true);
    expect(r.lines.some((l) => /is required/.test(l)), r.stderr).toBe(false);
  }, 60_000);
});
