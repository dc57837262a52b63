// Demo data stays out of production: the seed (lib/demo/seed.ts) writes the demo accounts, and
// the check `npm start` runs before serving a database (scripts/demo-accounts.ts) finds exactly
// them — and nothing in a database without them, even with other .test-looking users; and
// `npm start` itself refuses such a database.
import { spawnSync } from "node:child_process";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { eq } from "drizzle-orm";
import { users } from "@/db/schema";
import { DEMO_EMAILS } from "@/lib/demo/accounts";
import { seed } from "@/lib/demo/seed";
import { demoAccountsIn } from "@/scripts/demo-accounts";
import { useTestDatabase } from "../support/context";

const { db } = useTestDatabase();

describe("demo accounts", () => {
  it("are found after seeding, and the seed is idempotent and keeps the ledger invariant", async () => {
    expect(await demoAccountsIn(process.env.DATABASE_URL!)).toEqual([]);
    await seed(process.env.DATABASE_URL!);
    await seed(process.env.DATABASE_URL!);
    expect(await demoAccountsIn(process.env.DATABASE_URL!)).toEqual([...DEMO_EMAILS].sort());
  });

  it("are not reported once removed, whatever other users exist", async () => {
    await seed(process.env.DATABASE_URL!);
    for (const email of DEMO_EMAILS) {
      // Demo users own no ledger rows; their memberships go with them.
      await db.delete(users).where(eq(users.email, email));
    }
    await db.insert(users).values({ email: "ops@acme.test.example", name: "Ops", isStaff: true, passwordHash: "scrypt$x$y" });
    expect(await demoAccountsIn(process.env.DATABASE_URL!)).toEqual([]);
  });
});

describe("npm start on a database seeded with demo data", () => {
  it("migrates, then refuses to serve it, naming the demo accounts", async () => {
    await seed(process.env.DATABASE_URL!);
    const r = spawnSync("npm", ["start", "--silent"], {
      cwd: path.resolve(import.meta.dirname, "../.."),
      env: {
        PATH: process.env.PATH ?? "",
        HOME: process.env.HOME ?? "/tmp",
        DATABASE_URL: process.env.DATABASE_URL!,
        STRIPE_SECRET_KEY: "sk_test_x",
        NEXT_PUBLIC_STRIPE_PUBLISHABLE_KEY: "pk_test_x",
        STRIPE_WEBHOOK_SECRET: "whsec_x",
        NEXTAUTH_SECRET: "s".repeat(40),
        NEXTAUTH_URL: "https://app.example",
      } as unknown as NodeJS.ProcessEnv,
      encoding: "utf8",
      timeout: 60_000,
    });
    expect(r.status, r.stderr).toBe(2);
    const lines = r.stderr.split("\n").filter((l) => l.startsWith("npm start: "));
    expect(lines[0]).toMatch(/^npm start: The database holds the demo accounts admin@acme\.test, admin@bluebird\.test, member@acme\.test, staff@creditloop\.test/);
    // Refused before any server started; the demo users are untouched.
    expect(await demoAccountsIn(process.env.DATABASE_URL!)).toHaveLength(DEMO_EMAILS.length);
  }, 60_000);
});
