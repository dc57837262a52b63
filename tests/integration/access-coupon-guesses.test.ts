// The coupon-guess throttle under parallel guesses: however many wrong codes arrive at once,
// exactly COUPON_FAILURE_LIMIT are evaluated as wrong and recorded, the rest are refused as
// rate limited, at checkout as in the price preview.
import { describe, expect, it } from "vitest";
import { eq, sql } from "drizzle-orm";
import { couponAttempts, purchases } from "@/db/schema";
import { runOrgAction, type ActionResult } from "@/lib/actions/org-action";
import { COUPON_FAILURE_LIMIT } from "@/lib/coupons/rules";
import { quoteTopUpDef, startTopUpDef } from "@/lib/topups/actions";
import { useTestDatabase } from "../support/context";
import { makeCoupon, makeOrg, makePack, makeUser } from "../support/fixtures";

const { db } = useTestDatabase();

async function setup() {
  const org = await makeOrg(db);
  const admin = await makeUser(db, { orgId: org.id, role: "admin" });
  const pack = await makePack(db);
  return { org, admin, pack };
}

const attempts = async (orgId: string) => {
  const [r] = await db.select({ n: sql<number>`count(*)::int` }).from(couponAttempts).where(eq(couponAttempts.orgId, orgId));
  return r!.n;
};
const codes = (results: ActionResult<unknown>[]) => results.map((r) => (r.ok ? "ok" : r.code)).sort();

describe("coupon-guess throttle", () => {
  it("12 parallel wrong codes in the preview: exactly the limit recorded as wrong, the rest rate limited", async () => {
    const { org, admin, pack } = await setup();
    const results = await Promise.all(
      Array.from({ length: 12 }, (_, i) => runOrgAction(quoteTopUpDef, admin, { orgSlug: org.slug, packId: pack.id, couponCode: `NOPE${i}` }, db)),
    );
    expect(codes(results)).toEqual([
      ...Array(COUPON_FAILURE_LIMIT).fill("coupon_invalid"),
      ...Array(12 - COUPON_FAILURE_LIMIT).fill("rate_limited"),
    ]);
    expect(await attempts(org.id)).toBe(COUPON_FAILURE_LIMIT);
    // Refused afterwards, even a real code, until the window passes.
    const real = await makeCoupon(db);
    expect(await runOrgAction(quoteTopUpDef, admin, { orgSlug: org.slug, packId: pack.id, couponCode: real.code }, db)).toMatchObject({ ok: false, code: "rate_limited" });
    await db.execute(sql`update coupon_attempts set created_at = now() - interval '16 minutes'`);
    expect(await runOrgAction(quoteTopUpDef, admin, { orgSlug: org.slug, packId: pack.id, couponCode: real.code }, db)).toMatchObject({ ok: true });
  });

  it("12 parallel checkouts with wrong codes: the same, and no purchase is created", async () => {
    const { org, admin, pack } = await setup();
    const results = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        runOrgAction(startTopUpDef, admin, { orgSlug: org.slug, packId: pack.id, couponCode: `WRONG${i}`, requestId: crypto.randomUUID() }, db),
      ),
    );
    expect(codes(results)).toEqual([
      ...Array(COUPON_FAILURE_LIMIT).fill("coupon_invalid"),
      ...Array(12 - COUPON_FAILURE_LIMIT).fill("rate_limited"),
    ]);
    expect(await attempts(org.id)).toBe(COUPON_FAILURE_LIMIT);
    expect(await db.select().from(purchases).where(eq(purchases.orgId, org.id))).toHaveLength(0);
  });

  it("a burst with a real code hidden among wrong ones answers at most the limit plus that code: the rest learn nothing", async () => {
    const { org, admin, pack } = await setup();
    const real = await makeCoupon(db, { percentOff: 10 });
    const guesses = Array.from({ length: 15 }, (_, i) => (i === 9 ? real.code : `GUESS${i}`));
    const results = await Promise.all(guesses.map((couponCode) => runOrgAction(quoteTopUpDef, admin, { orgSlug: org.slug, packId: pack.id, couponCode }, db)));
    const answered = results.filter((r) => r.ok || r.code !== "rate_limited");
    expect(answered.filter((r) => !r.ok)).toHaveLength(COUPON_FAILURE_LIMIT);
    expect(answered.length).toBeLessThanOrEqual(COUPON_FAILURE_LIMIT + 1);
    expect(await attempts(org.id)).toBe(COUPON_FAILURE_LIMIT);
  });

  it("one organisation's guesses do not throttle another", async () => {
    const a = await setup();
    const b = await setup();
    await Promise.all(
      Array.from({ length: 8 }, (_, i) => runOrgAction(quoteTopUpDef, a.admin, { orgSlug: a.org.slug, packId: a.pack.id, couponCode: `NOPE${i}` }, db)),
    );
    expect(await runOrgAction(quoteTopUpDef, b.admin, { orgSlug: b.org.slug, packId: b.pack.id, couponCode: "NOPE" }, db)).toMatchObject({ ok: false, code: "coupon_invalid" });
    expect(await attempts(b.org.id)).toBe(1);
  });
});
