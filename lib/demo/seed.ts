// Demo data for dev and preview (never production: scripts/start.ts refuses a database holding
// the demo accounts): two organisations (Acme with campaigns paused for lack of
// credits, Bluebird with a running balance), their users, a staff user, credit packs and coupons.
// Idempotent: every row is keyed by a natural unique value and inserted only if missing; the
// starting credits go through the ledger like any other grant.
import { eq, inArray } from "drizzle-orm";
import { createDb } from "../../db/client";
import { campaigns, coupons, creditPacks, memberships, organizations, users } from "../../db/schema";
import { hashPassword } from "../auth/password";
import { grantCredits } from "../ledger/ledger";
import { DEMO_PASSWORD, DEMO_USERS } from "./accounts";
import { ensureKnownApiKey } from "../api-keys/service";
import { DEMO_API_KEY } from "./api-key";

export { DEMO_PASSWORD, DEMO_USERS };

const ORGS = [
  { slug: "acme", name: "Acme Outdoor" },
  { slug: "bluebird", name: "Bluebird Coffee" },
];

const USERS = [
  { email: "admin@acme.test", name: "Ada Admin", isStaff: false, org: "acme", role: "admin" as const },
  { email: "member@acme.test", name: "Milo Member", isStaff: false, org: "acme", role: "member" as const },
  { email: "admin@bluebird.test", name: "Bea Bluebird", isStaff: false, org: "bluebird", role: "admin" as const },
  { email: "staff@creditloop.test", name: "Sam Staff", isStaff: true, org: null, role: null },
];

const PACKS = [
  { slug: "starter", name: "Starter", credits: 500, amount: 4900, sortOrder: 1 },
  { slug: "growth", name: "Growth", credits: 1200, amount: 9900, sortOrder: 2 },
  { slug: "scale", name: "Scale", credits: 3000, amount: 22900, sortOrder: 3 },
];

const COUPONS = [
  { code: "WELCOME20", description: "20% off your first top-up", percentOff: 20, firstPurchaseOnly: true },
  { code: "SAVE10", description: "$10 off, once per organisation", amountOff: 1000, currency: "usd", oncePerOrg: true },
  { code: "LAUNCH50", description: "50% off — 100 redemptions", percentOff: 50, maxRedemptions: 100 },
  { code: "SPRING15", description: "15% off (expired)", percentOff: 15, expiresAt: new Date("2026-04-01T00:00:00Z") },
];

const CAMPAIGNS = [
  { org: "acme", name: "Spring trail launch", status: "paused" as const, pauseReason: "insufficient_credits" as const, cost: 120 },
  { org: "acme", name: "Creator unboxing series", status: "paused" as const, pauseReason: "insufficient_credits" as const, cost: 80 },
  { org: "acme", name: "Summer teaser", status: "draft" as const, pauseReason: null, cost: 50 },
  { org: "acme", name: "Winter gear recap", status: "completed" as const, pauseReason: null, cost: 60 },
  { org: "bluebird", name: "Morning ritual reels", status: "active" as const, pauseReason: null, cost: 40 },
  { org: "bluebird", name: "Barista takeover", status: "approved" as const, pauseReason: null, cost: 70 },
];

/** What `npm run dev` prints for trying the delivery API. */
export type DemoApi = { apiKey: string; campaignId: string | null };

export async function seed(databaseUrl: string): Promise<DemoApi> {
  const { db, sql } = createDb(databaseUrl, { max: 2 });
  try {
    await db.insert(organizations).values(ORGS).onConflictDoNothing({ target: organizations.slug });
    const orgRows = await db.select().from(organizations).where(inArray(organizations.slug, ORGS.map((o) => o.slug)));
    const orgId = (slug: string) => orgRows.find((o) => o.slug === slug)!.id;

    for (const u of USERS) {
      const [existing] = await db.select({ id: users.id }).from(users).where(eq(users.email, u.email));
      const id =
        existing?.id ??
        (await db
          .insert(users)
          .values({ email: u.email, name: u.name, isStaff: u.isStaff, passwordHash: await hashPassword(DEMO_PASSWORD) })
          .returning({ id: users.id }))[0]!.id;
      if (u.org && u.role) {
        await db.insert(memberships).values({ userId: id, orgId: orgId(u.org), role: u.role }).onConflictDoNothing();
      }
    }

    await db.insert(creditPacks).values(PACKS).onConflictDoNothing({ target: creditPacks.slug });
    await db.insert(coupons).values(COUPONS).onConflictDoNothing({ target: coupons.code });

    const seeded = await db.select({ name: campaigns.name }).from(campaigns);
    const missing = CAMPAIGNS.filter((c) => !seeded.some((s) => s.name === c.name));
    if (missing.length > 0) {
      await db.insert(campaigns).values(
        missing.map((c, i) => ({
          orgId: orgId(c.org),
          name: c.name,
          status: c.status,
          pauseReason: c.pauseReason,
          costPerDelivery: c.cost,
          pausedAt: c.status === "paused" ? new Date(Date.now() - (i + 1) * 3600_000) : null,
        })),
      );
    }

    // Bluebird starts with credits, granted through the ledger so balance = SUM(entries).
    await db.transaction((tx) =>
      grantCredits(tx, {
        orgId: orgId("bluebird"),
        amount: 800,
        kind: "bonus",
        idempotencyKey: "seed:bluebird:welcome-bonus",
        description: "Welcome bonus",
      }),
    );

    // The delivery API's demo key (only its hash is stored), for Bluebird's running campaign.
    await ensureKnownApiKey(db, { orgId: orgId("bluebird"), name: "Demo key (dev data)", key: DEMO_API_KEY });
    const [running] = await db.select({ id: campaigns.id }).from(campaigns).where(eq(campaigns.name, "Morning ritual reels"));
    return { apiKey: DEMO_API_KEY, campaignId: running?.id ?? null };
  } finally {
    await sql.end();
  }
}
