// Which subscription credits expire (lib/plans/catalogue.ts `creditsExpire`) and when: a paid
// invoice of an expiring plan writes its bucket with the grant, expiring at the period end (an
// annual plan granted monthly: each month's at the next month's start), and queues its
// credits.expire job in the same transaction; a rolling-over plan's credits have no bucket.
import { beforeEach, describe, expect, it } from "vitest";
import { eq, sql } from "drizzle-orm";
import { creditEntries, creditGrants, subscriptions } from "@/db/schema";
import { runQueuedJobs } from "@/lib/jobs/workers";
import { planByKey } from "@/lib/plans/catalogue";
import { useTestDatabase } from "../support/context";
import { useWebhookReceiver } from "../support/emulator";
import { snapshot } from "../support/fixtures";
import { clockOrg, subscribePaid, syncPlans } from "../support/subscriptions";

const { db } = useTestDatabase();
useWebhookReceiver(db);
beforeEach(async () => {
  await syncPlans(db);
});

const sub = async (orgId: string) => (await db.select().from(subscriptions).where(eq(subscriptions.orgId, orgId)))[0]!;
const expireJobs = async () =>
  db.execute<{ data: { grantId: string }; start_after: Date }>(sql`select data, start_after from pgboss.job where name = 'credits.expire'`);

describe("plan credits that expire", () => {
  it("the catalogue: Starter and Growth expire, Scale rolls over", () => {
    expect([planByKey("starter")!.creditsExpire, planByKey("growth")!.creditsExpire, planByKey("scale")!.creditsExpire]).toEqual([true, true, false]);
  });

  it("a Growth invoice grants a bucket expiring at the period end, with its expiry job queued", async () => {
    const w = await clockOrg(db);
    await subscribePaid(db, w, "growth", "month");
    const r = await sub(w.org.id);
    const s = await snapshot(db, w.org.id);
    const grant = s.entries.find((e) => e.kind === "subscription_grant")!;
    const buckets = await db.select().from(creditGrants).where(eq(creditGrants.orgId, w.org.id));
    expect(buckets).toEqual([expect.objectContaining({ entryId: grant.id, amount: 4000, remaining: 4000, expiredAt: null })]);
    expect(buckets[0]!.expiresAt.getTime()).toBe(r.currentPeriodEnd!.getTime());
    const jobs = await expireJobs();
    expect(jobs.map((j) => j.data)).toEqual([{ grantId: buckets[0]!.id }]);
    expect(new Date(jobs[0]!.start_after).getTime()).toBe(r.currentPeriodEnd!.getTime());
    // Not due yet: running due jobs leaves it queued and the credits in place.
    await runQueuedJobs(db, { names: ["credits.expire"] });
    expect((await snapshot(db, w.org.id)).balance).toBe(4000);
  });

  it("an annual Growth plan's months expire one after another; Scale's credits never do", async () => {
    const w = await clockOrg(db);
    await subscribePaid(db, w, "growth", "year");
    await runQueuedJobs(db, { includeDelayed: true, names: ["subscriptions.monthly-grant"] });
    const buckets = await db.select().from(creditGrants).where(eq(creditGrants.orgId, w.org.id)).orderBy(creditGrants.expiresAt);
    expect(buckets).toHaveLength(12);
    const r = await sub(w.org.id);
    expect(buckets.at(-1)!.expiresAt.getTime()).toBe(r.currentPeriodEnd!.getTime());
    for (let i = 1; i < buckets.length; i++) expect(buckets[i]!.expiresAt.getTime()).toBeGreaterThan(buckets[i - 1]!.expiresAt.getTime());

    const other = await clockOrg(db);
    await subscribePaid(db, other, "scale", "month");
    const grants = await db.select().from(creditEntries).where(eq(creditEntries.orgId, other.org.id));
    expect(grants.map((e) => [e.kind, e.amount])).toEqual([["subscription_grant", 15_000]]);
    expect(await db.select().from(creditGrants).where(eq(creditGrants.orgId, other.org.id))).toEqual([]);
  });
});
