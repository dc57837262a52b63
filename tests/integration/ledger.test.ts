// The ledger's own guarantees: append-only, one entry per cause, no overdraft under concurrency,
// campaigns pause when a delivery cannot be paid and resume with the grant that covers them.
import { describe, expect, it } from "vitest";
import { eq, sql } from "drizzle-orm";
import { campaigns, creditEntries } from "@/db/schema";
import { debitCredits, grantCredits } from "@/lib/ledger/ledger";
import { resumeCampaignsCoveredBy } from "@/lib/campaigns/service";
import { recordDelivery } from "@/lib/deliveries/service";
import { listEntries } from "@/lib/ledger/queries";
import { useTestDatabase } from "../support/context";
import { makeOrg, makePausedCampaign, snapshot } from "../support/fixtures";

const { db } = useTestDatabase();

describe("ledger", () => {
  it("refuses UPDATE and DELETE of entries", async () => {
    const org = await makeOrg(db);
    await db.transaction((tx) => grantCredits(tx, { orgId: org.id, amount: 100, kind: "bonus", idempotencyKey: "k1", description: "x" }));
    await expect(db.update(creditEntries).set({ amount: 1000 })).rejects.toThrow();
    await expect(db.delete(creditEntries)).rejects.toThrow();
    expect((await snapshot(db, org.id)).ledgerSum).toBe(100);
  });

  it("grants once per idempotency key, even concurrently", async () => {
    const org = await makeOrg(db);
    const results = await Promise.allSettled(
      Array.from({ length: 10 }, () =>
        db.transaction((tx) => grantCredits(tx, { orgId: org.id, amount: 250, kind: "adjustment", idempotencyKey: "adj:1", description: "x" })),
      ),
    );
    expect(results.every((r) => r.status === "fulfilled")).toBe(true);
    expect(results.filter((r) => r.status === "fulfilled" && r.value.created)).toHaveLength(1);
    const s = await snapshot(db, org.id);
    expect(s.entries).toHaveLength(1);
    expect(s.balance).toBe(250);
  });

  it("concurrent deliveries never overdraw; the campaign pauses when credits run out", async () => {
    const org = await makeOrg(db);
    await db.transaction((tx) => grantCredits(tx, { orgId: org.id, amount: 1000, kind: "bonus", idempotencyKey: "b", description: "x" }));
    const [c] = await db.insert(campaigns).values({ orgId: org.id, name: "c", status: "active", costPerDelivery: 70 }).returning();
    const results = await Promise.allSettled(Array.from({ length: 25 }, (_, i) => recordDelivery(db, { orgId: org.id, campaignId: c!.id, idempotencyKey: `t:${i}` })));
    const delivered = results.filter((r) => r.status === "fulfilled").length;
    expect(delivered).toBe(14); // floor(1000 / 70)
    const s = await snapshot(db, org.id);
    expect(s.balance).toBe(1000 - 14 * 70);
    expect(s.balance).toBeGreaterThanOrEqual(0);
    expect(s.campaigns[0]).toMatchObject({ status: "paused", pauseReason: "insufficient_credits", deliveriesCount: 14 });
    expect(s.entries.filter((e) => e.kind === "usage")).toHaveLength(14);
  });

  it("concurrent guarded debits from many transactions stop exactly at zero", async () => {
    const org = await makeOrg(db);
    await db.transaction((tx) => grantCredits(tx, { orgId: org.id, amount: 1000, kind: "bonus", idempotencyKey: "b2", description: "x" }));
    const results = await Promise.all(
      Array.from({ length: 25 }, (_, i) =>
        db.transaction((tx) => debitCredits(tx, { orgId: org.id, credits: 70, idempotencyKey: `d2:${i}`, description: "x" })),
      ),
    );
    expect(results.filter((r) => r !== null)).toHaveLength(14);
    expect((await snapshot(db, org.id)).balance).toBe(20);
  });

  it("a guarded debit is refused when the balance cannot cover it", async () => {
    const org = await makeOrg(db);
    const r = await db.transaction((tx) => debitCredits(tx, { orgId: org.id, credits: 1, idempotencyKey: "d", description: "x" }));
    expect(r).toBeNull();
    expect((await snapshot(db, org.id)).entries).toHaveLength(0);
  });

  it("resumes paused campaigns the new balance covers, in pause order", async () => {
    const org = await makeOrg(db);
    const first = await makePausedCampaign(db, org.id, 60);
    await db.update(campaigns).set({ pausedAt: new Date(Date.now() - 60_000) }).where(eq(campaigns.id, first.id));
    const second = await makePausedCampaign(db, org.id, 60);
    const resumed = await db.transaction(async (tx) => {
      const { entry } = await grantCredits(tx, { orgId: org.id, amount: 100, kind: "bonus", idempotencyKey: "g", description: "x" });
      return resumeCampaignsCoveredBy(tx, org.id, entry.balanceAfter);
    });
    expect(resumed).toEqual([first.id]);
    const s = await snapshot(db, org.id);
    expect(s.campaigns.find((c) => c.id === first.id)!.status).toBe("active");
    expect(s.campaigns.find((c) => c.id === second.id)!.status).toBe("paused");
  });

  it("lists entries newest first with keyset pagination and a kind filter", async () => {
    const org = await makeOrg(db);
    for (let i = 1; i <= 7; i++) {
      await db.transaction((tx) => grantCredits(tx, { orgId: org.id, amount: i, kind: i % 2 ? "bonus" : "adjustment", idempotencyKey: `e${i}`, description: `e${i}` }));
    }
    const p1 = await listEntries(db, { orgId: org.id, limit: 3 });
    expect(p1.entries.map((e) => e.amount)).toEqual([7, 6, 5]);
    const p2 = await listEntries(db, { orgId: org.id, limit: 3, before: p1.nextCursor! });
    expect(p2.entries.map((e) => e.amount)).toEqual([4, 3, 2]);
    const p3 = await listEntries(db, { orgId: org.id, limit: 3, before: p2.nextCursor! });
    expect(p3.entries.map((e) => e.amount)).toEqual([1]);
    expect(p3.nextCursor).toBeNull();
    const bonus = await listEntries(db, { orgId: org.id, kind: "bonus" });
    expect(bonus.entries.map((e) => e.amount)).toEqual([7, 5, 3, 1]);
    const [n] = await db.select({ n: sql<number>`count(*)::int` }).from(creditEntries);
    expect(n!.n).toBe(7);
  });
});
