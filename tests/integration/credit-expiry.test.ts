// Grants with expiry (db/schema/credit-grants.ts, lib/ledger/ledger.ts, lib/ledger/expiry.ts):
// debits drain the soonest-expiring grant first and purchased credits last; the expiry job takes
// back exactly what is left of a due grant, once; debits racing the expiry neither double-spend
// nor expire spent credits; balance = SUM(ledger) throughout (also checked after every test).
import { describe, expect, it } from "vitest";
import { and, eq } from "drizzle-orm";
import { creditEntries, creditGrants } from "@/db/schema";
import { debitCredits, grantCredits } from "@/lib/ledger/ledger";
import { expireDueGrants, expireGrant } from "@/lib/ledger/expiry";
import { enqueue } from "@/lib/jobs/queue";
import { runQueuedJobs } from "@/lib/jobs/workers";
import { useTestDatabase } from "../support/context";
import { makeOrg, snapshot } from "../support/fixtures";

const { db } = useTestDatabase();
const DAY = 86_400_000;

async function grant(orgId: string, key: string, amount: number, expiresAt: Date | null) {
  return db.transaction((tx) =>
    grantCredits(tx, { orgId, amount, kind: expiresAt ? "subscription_grant" : "purchase", idempotencyKey: key, description: key, expiresAt }),
  );
}
const debit = (orgId: string, key: string, credits: number) =>
  db.transaction((tx) => debitCredits(tx, { orgId, credits, idempotencyKey: key, description: key }));
async function remaining(bucketId: string) {
  const [b] = await db.select().from(creditGrants).where(eq(creditGrants.id, bucketId));
  return b!.remaining;
}
async function expectExact(orgId: string, balance: number) {
  const s = await snapshot(db, orgId);
  expect(s.balance).toBe(balance);
  expect(s.ledgerSum).toBe(balance);
  return s;
}

describe("expiring grants", () => {
  it("a grant with expiresAt writes its bucket with the entry; a retried grant writes none", async () => {
    const org = await makeOrg(db);
    const at = new Date(Date.now() + 10 * DAY);
    const first = await grant(org.id, "invoice:in_1", 500, at);
    expect(first.created).toBe(true);
    expect(first.bucketId).toBeTruthy();
    const again = await grant(org.id, "invoice:in_1", 500, at);
    expect(again).toMatchObject({ created: false, bucketId: null });
    const buckets = await db.select().from(creditGrants).where(eq(creditGrants.orgId, org.id));
    expect(buckets).toEqual([expect.objectContaining({ entryId: first.entry.id, amount: 500, remaining: 500, expiredAt: null })]);
    expect(buckets[0]!.expiresAt.getTime()).toBe(at.getTime());
    const purchase = await grant(org.id, "purchase:1", 100, null);
    expect(purchase.bucketId).toBeNull();
    await expectExact(org.id, 600);
  });

  it("debits drain the soonest-expiring grant first, then the later one, then purchased credits", async () => {
    const org = await makeOrg(db);
    await grant(org.id, "purchase:1", 100, null);
    const later = await grant(org.id, "invoice:later", 50, new Date(Date.now() + 20 * DAY));
    const sooner = await grant(org.id, "invoice:sooner", 30, new Date(Date.now() + 5 * DAY));

    await debit(org.id, "d1", 20);
    expect([await remaining(sooner.bucketId!), await remaining(later.bucketId!)]).toEqual([10, 50]);
    await debit(org.id, "d2", 30); // 10 from the sooner, 20 from the later
    expect([await remaining(sooner.bucketId!), await remaining(later.bucketId!)]).toEqual([0, 30]);
    await debit(org.id, "d3", 40); // 30 from the later, 10 purchased
    expect([await remaining(sooner.bucketId!), await remaining(later.bucketId!)]).toEqual([0, 0]);
    await debit(org.id, "d3", 40); // a retried debit drains nothing more
    await expectExact(org.id, 90);
    // A refused debit drains nothing either.
    expect(await debit(org.id, "d4", 1000)).toBeNull();
    await expectExact(org.id, 90);
  });

  it("the expiry takes back exactly what is left of a due grant, once (job run twice)", async () => {
    const org = await makeOrg(db);
    await grant(org.id, "purchase:1", 50, null);
    const due = await grant(org.id, "invoice:due", 100, new Date(Date.now() - 1000));
    const notDue = await grant(org.id, "invoice:future", 40, new Date(Date.now() + 5 * DAY));
    await debit(org.id, "d1", 30); // from the due bucket (soonest)
    expect(await remaining(due.bucketId!)).toBe(70);

    await enqueue(db, "credits.expire", { grantId: due.bucketId! });
    await enqueue(db, "credits.expire", { grantId: due.bucketId! });
    const runs = await runQueuedJobs(db, { names: ["credits.expire"] });
    expect(runs.filter((r) => r.name === "credits.expire")).toHaveLength(2);
    expect(await expireGrant(db, due.bucketId!)).toMatchObject({ outcome: "already", credits: 0 });
    expect(await expireGrant(db, notDue.bucketId!)).toMatchObject({ outcome: "not_due", credits: 0 });

    const expiries = await db.select().from(creditEntries).where(and(eq(creditEntries.orgId, org.id), eq(creditEntries.kind, "expiry")));
    expect(expiries).toEqual([expect.objectContaining({ amount: -70, idempotencyKey: `expiry:${due.bucketId}`, balanceAfter: 90 })]);
    const [b] = await db.select().from(creditGrants).where(eq(creditGrants.id, due.bucketId!));
    expect(b).toMatchObject({ remaining: 0 });
    expect(b!.expiredAt).toBeInstanceOf(Date);
    await expectExact(org.id, 90); // 50 purchased + 40 not yet due
    // The sweep finds nothing more to do now; after the later one is due it expires it.
    expect(await expireDueGrants(db)).toEqual([]);
    const swept = await expireDueGrants(db, new Date(Date.now() + 6 * DAY));
    expect(swept).toEqual([{ grantId: notDue.bucketId, outcome: "expired", credits: 40 }]);
    await expectExact(org.id, 50);
  });

  it("a fully spent grant expires with no entry", async () => {
    const org = await makeOrg(db);
    const due = await grant(org.id, "invoice:due", 20, new Date(Date.now() - 1000));
    await debit(org.id, "d1", 20);
    expect(await expireGrant(db, due.bucketId!)).toMatchObject({ outcome: "expired", credits: 0 });
    const s = await expectExact(org.id, 0);
    expect(s.entries.map((e) => e.kind)).toEqual(["subscription_grant", "usage"]);
  });

  it("debits racing the expiry never double-spend nor expire spent credits", async () => {
    for (let round = 0; round < 3; round++) {
      const org = await makeOrg(db);
      await grant(org.id, `purchase:${round}`, 100, null);
      const due = await grant(org.id, `invoice:${round}`, 100, new Date(Date.now() - 1000));
      const debits = Array.from({ length: 50 }, (_, i) => debit(org.id, `r${round}:d${i}`, 5).catch((e: unknown) => e));
      const expiry = expireGrant(db, due.bucketId!);
      await Promise.all([...debits, expiry]);

      const s = await snapshot(db, org.id);
      const exp = s.entries.filter((e) => e.kind === "expiry");
      const usage = s.entries.filter((e) => e.kind === "usage");
      expect(exp.length).toBeLessThanOrEqual(1);
      // Entry ids are taken under the organisation lock, so they order the debits and the expiry.
      const expiryId = exp[0]?.id ?? Number.MAX_SAFE_INTEGER;
      const spentBefore = usage.filter((e) => e.id < expiryId).reduce((a, e) => a - e.amount, 0);
      const expired = exp[0] ? -exp[0].amount : 0;
      expect(expired).toBe(Math.max(0, 100 - spentBefore));
      expect(s.balance).toBe(200 - usage.length * 5 - expired);
      expect(s.balance).toBeGreaterThanOrEqual(0);
      expect(s.ledgerSum).toBe(s.balance);
      expect(await remaining(due.bucketId!)).toBe(0);
    }
  });
});
