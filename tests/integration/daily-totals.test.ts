// The daily totals behind the usage chart, the depletion forecast and per-campaign spend
// (credit_daily_totals, kept by a statement trigger on credit_entries): the reads give what
// aggregating the entries gives, for entries on different days, several campaigns, expiries and
// multi-row inserts. (Every integration test also checks the totals equal the ledger's aggregate
// afterwards: tests/support/context.ts.)
import { describe, expect, it } from "vitest";
import { sql } from "drizzle-orm";
import { recordDelivery } from "@/lib/deliveries/service";
import { campaignSpend, dailyUsage, spentInLastDays } from "@/lib/balance-care/queries";
import { grantCredits } from "@/lib/ledger/ledger";
import { useTestDatabase } from "../support/context";
import { makeOrg } from "../support/fixtures";
import { fund, makeActiveCampaign } from "../support/deliveries";

const { db } = useTestDatabase();

/** Appends entries dated `daysAgo` days back in ONE statement (as a bulk import would). */
async function entriesDaysAgo(orgId: string, rows: { daysAgo: number; amount: number; kind: "bonus" | "usage" | "expiry"; campaignId?: string }[], tag: string) {
  const values = rows.map(
    (r, i) =>
      sql`(${orgId}::uuid, ${r.kind}::credit_entry_kind, ${r.amount}::int, 0, ${`${tag}:${i}`}::text, 'test', ${r.campaignId ?? null}::uuid, now() - make_interval(days => ${r.daysAgo}::int))`,
  );
  await db.execute(sql`insert into credit_entries (org_id, kind, amount, balance_after, idempotency_key, description, campaign_id, created_at) values ${sql.join(values, sql`, `)}`);
  const total = rows.reduce((s, r) => s + r.amount, 0);
  await db.execute(sql`update organizations set balance = balance + ${total}::int where id = ${orgId}::uuid`);
}

describe("daily totals", () => {
  it("chart, forecast and per-campaign spend equal the ledger's own aggregates", async () => {
    const org = await makeOrg(db);
    const other = await makeOrg(db);
    await fund(db, org.id, 1_000);
    await fund(db, other.id, 1_000);
    const a = await makeActiveCampaign(db, org.id, 10);
    const b = await makeActiveCampaign(db, org.id, 25);
    const elsewhere = await makeActiveCampaign(db, other.id, 10);

    // Today, through the product: 3 deliveries of A, 2 of B, and one of another organisation.
    for (let i = 0; i < 3; i++) await recordDelivery(db, { orgId: org.id, campaignId: a.id, idempotencyKey: `a-${i}` });
    for (let i = 0; i < 2; i++) await recordDelivery(db, { orgId: org.id, campaignId: b.id, idempotencyKey: `b-${i}` });
    await recordDelivery(db, { orgId: other.id, campaignId: elsewhere.id, idempotencyKey: "x-0" });
    // Earlier days, several rows per statement (one trigger run adds them all).
    await entriesDaysAgo(
      org.id,
      [
        { daysAgo: 3, amount: -40, kind: "usage", campaignId: a.id },
        { daysAgo: 3, amount: -60, kind: "usage", campaignId: b.id },
        { daysAgo: 3, amount: 500, kind: "bonus" },
        { daysAgo: 6, amount: -7, kind: "expiry" },
        { daysAgo: 6, amount: -5, kind: "usage", campaignId: a.id },
        { daysAgo: 9, amount: -100, kind: "usage", campaignId: a.id },
        { daysAgo: 40, amount: -11, kind: "usage", campaignId: b.id },
      ],
      "past",
    );

    const days = await dailyUsage(db, org.id, 30);
    expect(days).toHaveLength(30);
    const byDaysAgo = (n: number) => days[days.length - 1 - n]!;
    expect(byDaysAgo(0)).toMatchObject({ creditsIn: 1_000, creditsOut: 3 * 10 + 2 * 25 });
    expect(byDaysAgo(3)).toMatchObject({ creditsIn: 500, creditsOut: 100 });
    expect(byDaysAgo(6)).toMatchObject({ creditsIn: 0, creditsOut: 12 });
    expect(byDaysAgo(9)).toMatchObject({ creditsIn: 0, creditsOut: 100 });
    expect(days.reduce((s, d) => s + d.creditsOut, 0)).toBe(80 + 100 + 12 + 100);

    // The same figures straight from the entries.
    const [agg] = await db.execute<{ out30: number }>(sql`
      select coalesce(-sum(amount) filter (where amount < 0), 0)::int as out30 from credit_entries
      where org_id = ${org.id}::uuid and (created_at at time zone 'UTC')::date > (now() at time zone 'UTC')::date - 30`);
    expect(days.reduce((s, d) => s + d.creditsOut, 0)).toBe(agg!.out30);

    // The forecast's window: usage over the last 7 UTC days, today included (not expiry, not day 9).
    expect(await spentInLastDays(db, org.id)).toBe(80 + 100 + 5);

    const spend = await campaignSpend(db, org.id);
    expect(spend.get(a.id)).toEqual({ total: 30 + 40 + 5 + 100, last7Days: 30 + 40 + 5 });
    expect(spend.get(b.id)).toEqual({ total: 50 + 60 + 11, last7Days: 50 + 60 });
    expect(spend.has(elsewhere.id)).toBe(false);
  });

  it("a duplicate ledger key adds nothing to the day", async () => {
    const org = await makeOrg(db);
    const input = { orgId: org.id, amount: 30, kind: "bonus" as const, idempotencyKey: "once", description: "bonus" };
    await Promise.all(Array.from({ length: 8 }, () => grantCredits(db, input)));
    const days = await dailyUsage(db, org.id, 1);
    expect(days).toEqual([expect.objectContaining({ creditsIn: 30, creditsOut: 0 })]);
  });
});
