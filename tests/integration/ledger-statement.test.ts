// The single-statement grant and debit (lib/ledger/ledger.ts): a used idempotency key changes
// nothing (and waits for nothing), concurrent writers on one organisation leave an exact balance
// and an unbroken balance_after chain, and only reversal kinds may go below zero.
import { describe, expect, it } from "vitest";
import { sql } from "drizzle-orm";
import { debitCredits, grantCredits } from "@/lib/ledger/ledger";
import { AppError } from "@/lib/errors";
import { useTestDatabase } from "../support/context";
import { makeOrg, snapshot } from "../support/fixtures";

const { db } = useTestDatabase();

/** balance = SUM(entries), and each entry's balance_after = the previous one's + its amount. */
async function expectExactLedger(orgId: string, expectedBalance: number) {
  const s = await snapshot(db, orgId);
  expect(s.balance).toBe(expectedBalance);
  expect(s.ledgerSum).toBe(expectedBalance);
  let running = 0;
  for (const e of s.entries) {
    running += e.amount;
    expect(e.balanceAfter).toBe(running);
  }
  return s;
}

describe("single-statement ledger writes", () => {
  it("a grant whose key was used returns the first entry and changes nothing", async () => {
    const org = await makeOrg(db);
    const first = await db.transaction((tx) => grantCredits(tx, { orgId: org.id, amount: 300, kind: "bonus", idempotencyKey: "g:1", description: "first" }));
    expect(first.created).toBe(true);
    expect(first.entry).toMatchObject({ orgId: org.id, amount: 300, balanceAfter: 300, kind: "bonus", idempotencyKey: "g:1" });
    expect(typeof first.entry.id).toBe("number");
    expect(first.entry.createdAt).toBeInstanceOf(Date);

    const again = await db.transaction((tx) => grantCredits(tx, { orgId: org.id, amount: 999, kind: "bonus", idempotencyKey: "g:1", description: "again" }));
    expect(again.created).toBe(false);
    expect(again.entry).toEqual(first.entry);
    const s = await expectExactLedger(org.id, 300);
    expect(s.entries).toHaveLength(1);
  });

  it("a debit whose key was used returns the first entry and changes nothing", async () => {
    const org = await makeOrg(db);
    await db.transaction((tx) => grantCredits(tx, { orgId: org.id, amount: 100, kind: "bonus", idempotencyKey: "g", description: "x" }));
    const first = await db.transaction((tx) => debitCredits(tx, { orgId: org.id, credits: 30, idempotencyKey: "d:1", description: "x" }));
    const again = await db.transaction((tx) => debitCredits(tx, { orgId: org.id, credits: 30, idempotencyKey: "d:1", description: "x" }));
    expect(first).toMatchObject({ amount: -30, balanceAfter: 70, kind: "usage" });
    expect(again).toEqual(first);
    await expectExactLedger(org.id, 70);
  });

  it("a used key neither changes nor waits for an organisation another transaction has locked", async () => {
    const org = await makeOrg(db);
    await db.transaction((tx) => grantCredits(tx, { orgId: org.id, amount: 100, kind: "bonus", idempotencyKey: "g", description: "x" }));
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let locked!: () => void;
    const isLocked = new Promise<void>((r) => (locked = r));
    const holder = db.transaction(async (tx) => {
      await debitCredits(tx, { orgId: org.id, credits: 10, idempotencyKey: "d:held", description: "x" });
      locked();
      await held;
    });
    await isLocked;
    // With the row locked elsewhere, a duplicate grant must not queue behind it (lock_timeout
    // turns a wait into an error instead of a hang).
    const dup = await db.transaction(async (tx) => {
      await tx.execute(sql`set local lock_timeout = '5s'`);
      return grantCredits(tx, { orgId: org.id, amount: 100, kind: "bonus", idempotencyKey: "g", description: "x" });
    });
    expect(dup.created).toBe(false);
    release();
    await holder;
    await expectExactLedger(org.id, 90);
  });

  it("concurrent grants and debits on one organisation leave an exact balance and an unbroken chain", async () => {
    const org = await makeOrg(db);
    await db.transaction((tx) => grantCredits(tx, { orgId: org.id, amount: 500, kind: "bonus", idempotencyKey: "seed", description: "x" }));
    const work = [
      ...Array.from({ length: 40 }, (_, i) => () => db.transaction((tx) => grantCredits(tx, { orgId: org.id, amount: 7, kind: "purchase", idempotencyKey: `p:${i}`, description: "x" }))),
      ...Array.from({ length: 40 }, (_, i) => () => db.transaction((tx) => debitCredits(tx, { orgId: org.id, credits: 11, idempotencyKey: `u:${i}`, description: "x" }))),
      // The same keys again, racing the originals.
      ...Array.from({ length: 10 }, (_, i) => () => db.transaction((tx) => grantCredits(tx, { orgId: org.id, amount: 7, kind: "purchase", idempotencyKey: `p:${i}`, description: "x" }))),
      ...Array.from({ length: 10 }, (_, i) => () => db.transaction((tx) => debitCredits(tx, { orgId: org.id, credits: 11, idempotencyKey: `u:${i}`, description: "x" }))),
    ];
    const results = await Promise.allSettled(work.map((w) => w()));
    expect(results.filter((r) => r.status === "rejected")).toEqual([]);
    const s = await expectExactLedger(org.id, 500 + 40 * 7 - 40 * 11);
    expect(s.entries).toHaveLength(81);
  });

  it("concurrent debits stop exactly at zero and none is counted twice", async () => {
    const org = await makeOrg(db);
    await db.transaction((tx) => grantCredits(tx, { orgId: org.id, amount: 100, kind: "bonus", idempotencyKey: "seed", description: "x" }));
    const results = await Promise.all(
      Array.from({ length: 30 }, (_, i) => db.transaction((tx) => debitCredits(tx, { orgId: org.id, credits: 9, idempotencyKey: `u:${i}`, description: "x" }))),
    );
    expect(results.filter((r) => r !== null)).toHaveLength(11); // floor(100 / 9)
    const s = await expectExactLedger(org.id, 1);
    expect(s.entries.filter((e) => e.kind === "usage")).toHaveLength(11);
  });

  it("a refund reversal may leave a negative balance; other negative grants may not", async () => {
    const org = await makeOrg(db);
    await db.transaction((tx) => grantCredits(tx, { orgId: org.id, amount: 50, kind: "purchase", idempotencyKey: "p", description: "x" }));

    const refused = db.transaction((tx) => grantCredits(tx, { orgId: org.id, amount: -80, kind: "adjustment", idempotencyKey: "adj:too-much", description: "x" }));
    await expect(refused).rejects.toBeInstanceOf(AppError);
    await expect(refused).rejects.toMatchObject({ code: "conflict" });
    await expectExactLedger(org.id, 50);

    const covered = await db.transaction((tx) => grantCredits(tx, { orgId: org.id, amount: -20, kind: "expiry", idempotencyKey: "exp", description: "x" }));
    expect(covered.entry.balanceAfter).toBe(30);

    const reversal = await db.transaction((tx) =>
      grantCredits(tx, { orgId: org.id, amount: -50, kind: "refund_reversal", idempotencyKey: "refund:p", description: "x" }),
    );
    expect(reversal).toMatchObject({ created: true, entry: { balanceAfter: -20 } });
    await expectExactLedger(org.id, -20);

    // Below zero nothing can be spent.
    expect(await db.transaction((tx) => debitCredits(tx, { orgId: org.id, credits: 1, idempotencyKey: "u", description: "x" }))).toBeNull();
    await expectExactLedger(org.id, -20);
  });

  it("an unknown organisation is an error and writes nothing", async () => {
    await expect(
      db.transaction((tx) => grantCredits(tx, { orgId: crypto.randomUUID(), amount: 5, kind: "bonus", idempotencyKey: "nobody", description: "x" })),
    ).rejects.toThrow(/not found/);
    expect(await db.transaction((tx) => debitCredits(tx, { orgId: crypto.randomUUID(), credits: 5, idempotencyKey: "nobody:u", description: "x" }))).toBeNull();
  });
});
