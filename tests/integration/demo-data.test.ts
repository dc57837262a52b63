// Demo data stays out of production: the seed (lib/demo/seed.ts) writes the demo accounts, and
// the check `npm start` runs before serving a database (scripts/demo-accounts.ts) finds exactly
// them — and nothing in a database without them, even with other .test-looking users; and
// `npm start` itself refuses such a database. The demo organisation's API key (its secret is in
// the source) is demo data too: `npm start` refuses while it is live even with the demo users
// gone, and a production server never accepts it.
import { spawnSync } from "node:child_process";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { eq } from "drizzle-orm";
import { apiKeys, users } from "@/db/schema";
import { authenticateApiKey, ensureKnownApiKey } from "@/lib/api-keys/service";
import { hashApiKey } from "@/lib/api-keys/keys";
import { DEMO_EMAILS } from "@/lib/demo/accounts";
import { DEMO_API_KEY } from "@/lib/demo/api-key";
import { seed } from "@/lib/demo/seed";
import { demoAccountsIn, demoApiKeyIn } from "@/scripts/demo-accounts";
import { useTestDatabase } from "../support/context";
import { makeOrg } from "../support/fixtures";

const { db } = useTestDatabase();

const deploymentBefore = process.env.CREDITLOOP_DEPLOYMENT;
afterEach(() => {
  if (deploymentBefore === undefined) delete process.env.CREDITLOOP_DEPLOYMENT;
  else process.env.CREDITLOOP_DEPLOYMENT = deploymentBefore;
});

/** `npm start` against the test database with an otherwise complete production environment. */
function npmStart() {
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
  return { status: r.status, stderr: r.stderr, lines: r.stderr.split("\n").filter((l) => l.startsWith("npm start: ")) };
}

const deleteDemoUsers = async () => {
  // Demo users own no ledger rows; their memberships go with them.
  for (const email of DEMO_EMAILS) await db.delete(users).where(eq(users.email, email));
};

describe("demo accounts", () => {
  it("are found after seeding, and the seed is idempotent and keeps the ledger invariant", async () => {
    expect(await demoAccountsIn(process.env.DATABASE_URL!)).toEqual([]);
    await seed(process.env.DATABASE_URL!);
    await seed(process.env.DATABASE_URL!);
    expect(await demoAccountsIn(process.env.DATABASE_URL!)).toEqual([...DEMO_EMAILS].sort());
  });

  it("are not reported once removed, whatever other users exist", async () => {
    await seed(process.env.DATABASE_URL!);
    await deleteDemoUsers();
    await db.insert(users).values({ email: "ops@acme.test.example", name: "Ops", isStaff: true, passwordHash: "scrypt$x$y" });
    expect(await demoAccountsIn(process.env.DATABASE_URL!)).toEqual([]);
  });
});

describe("npm start on a database seeded with demo data", () => {
  it("migrates, then refuses to serve it, naming the demo accounts", async () => {
    await seed(process.env.DATABASE_URL!);
    const r = npmStart();
    expect(r.status, r.stderr).toBe(2);
    expect(r.lines[0]).toMatch(/^npm start: The database holds the demo accounts admin@acme\.test, admin@bluebird\.test, member@acme\.test, staff@creditloop\.test/);
    // Refused before any server started; the demo users are untouched.
    expect(await demoAccountsIn(process.env.DATABASE_URL!)).toHaveLength(DEMO_EMAILS.length);
  }, 60_000);

  it("with the demo users deleted as told, still refuses while the demo API key is live, saying how to revoke it", async () => {
    await seed(process.env.DATABASE_URL!);
    await deleteDemoUsers();
    expect(await demoAccountsIn(process.env.DATABASE_URL!)).toEqual([]);
    const r = npmStart();
    expect(r.status, r.stderr).toBe(2);
    expect(r.lines[0]).toMatch(/^npm start: The database holds the demo API key cl_test_bluebi… of Bluebird Coffee \(bluebird\), whose secret is published/);
    expect(r.lines[0]).toContain(`UPDATE api_keys SET revoked_at = now() WHERE key_hash = '${hashApiKey(DEMO_API_KEY)}'`);
    // Refused before any server started; the key is untouched.
    const [key] = await db.select().from(apiKeys).where(eq(apiKeys.keyHash, hashApiKey(DEMO_API_KEY)));
    expect(key!.revokedAt).toBeNull();
  }, 60_000);

  it("the check finds the live demo key, and not once it is revoked", async () => {
    expect(await demoApiKeyIn(process.env.DATABASE_URL!)).toBeNull();
    await seed(process.env.DATABASE_URL!);
    expect(await demoApiKeyIn(process.env.DATABASE_URL!)).toEqual({ prefix: "cl_test_bluebi", orgName: "Bluebird Coffee", orgSlug: "bluebird" });
    await db.update(apiKeys).set({ revokedAt: new Date() }).where(eq(apiKeys.keyHash, hashApiKey(DEMO_API_KEY)));
    expect(await demoApiKeyIn(process.env.DATABASE_URL!)).toBeNull();
  });
});

describe("the demo API key under each deployment", () => {
  it("authenticates in dev and preview, never in production (even when its row is there)", async () => {
    const org = await makeOrg(db);
    await ensureKnownApiKey(db, { orgId: org.id, name: "Demo key (dev data)", key: DEMO_API_KEY });
    for (const deployment of ["dev", "preview"]) {
      process.env.CREDITLOOP_DEPLOYMENT = deployment;
      expect(await authenticateApiKey(db, DEMO_API_KEY), deployment).toMatchObject({ orgId: org.id });
    }
    process.env.CREDITLOOP_DEPLOYMENT = "production";
    expect(await authenticateApiKey(db, DEMO_API_KEY)).toBeNull();
    // Unset under NODE_ENV=production (a bare `next start`) is production too.
    delete process.env.CREDITLOOP_DEPLOYMENT;
    const nodeEnv = process.env.NODE_ENV;
    (process.env as Record<string, string | undefined>).NODE_ENV = "production";
    try {
      expect(await authenticateApiKey(db, DEMO_API_KEY)).toBeNull();
    } finally {
      (process.env as Record<string, string | undefined>).NODE_ENV = nodeEnv;
    }
  });
});
