// Coupon caps under concurrency, holds released by failures and abandonment, the wrong-code
// throttle, and who may apply coupons.
import { describe, expect, it } from "vitest";
import { and, eq, sql } from "drizzle-orm";
import { couponAttempts, couponRedemptions, purchases } from "@/db/schema";
import { runOrgAction } from "@/lib/actions/org-action";
import { confirmTestCardDef, quoteTopUpDef, startTopUpDef } from "@/lib/topups/actions";
import { reclaimStaleHolds } from "@/lib/topups/reclaim";
import { receiveStripeWebhook } from "@/lib/webhooks/receive";
import { stripe } from "@/lib/stripe/client";
import { COUPON_FAILURE_LIMIT } from "@/lib/coupons/rules";
import { useTestDatabase } from "../support/context";
import { drainDeliveries, startWebhookReceiver } from "../support/emulator";
import { makeCoupon, makeOrg, makePack, makeUser, snapshot } from "../support/fixtures";

const { db } = useTestDatabase();

describe("coupons", () => {
  it("a coupon with 1 redemption left and 10 concurrent purchases gives exactly one discounted success", async () => {
    const receiver = await startWebhookReceiver((b, s) => receiveStripeWebhook(db, b, s));
    try {
      const pack = await makePack(db, { credits: 500, amount: 4900 });
      const coupon = await makeCoupon(db, { percentOff: 50, maxRedemptions: 3 });
      // Two redemptions already used by earlier customers.
      const earlier = await makeOrg(db);
      const earlierAdmin = await makeUser(db, { orgId: earlier.id, role: "admin" });
      for (let i = 0; i < 2; i++) {
        const r = await runOrgAction(startTopUpDef, earlierAdmin, { orgSlug: earlier.slug, packId: pack.id, couponCode: coupon.code, requestId: crypto.randomUUID() }, db);
        if (!r.ok) throw new Error(r.error);
        await runOrgAction(confirmTestCardDef, earlierAdmin, { orgSlug: earlier.slug, purchaseId: r.data.purchaseId, paymentMethod: "pm_card_visa" }, db);
      }

      const orgs = await Promise.all(Array.from({ length: 10 }, () => makeOrg(db)));
      const admins = await Promise.all(orgs.map((o) => makeUser(db, { orgId: o.id, role: "admin" })));
      const starts = await Promise.all(
        orgs.map((o, i) => runOrgAction(startTopUpDef, admins[i]!, { orgSlug: o.slug, packId: pack.id, couponCode: coupon.code, requestId: crypto.randomUUID() }, db)),
      );
      const winners = starts.flatMap((r, i) => (r.ok ? [{ i, purchaseId: r.data.purchaseId }] : []));
      expect(winners).toHaveLength(1);
      for (const r of starts.filter((r) => !r.ok)) expect(r).toMatchObject({ ok: false, code: "coupon_invalid", error: expect.stringMatching(/redemption limit/) });

      // Pay every started checkout.
      const w = winners[0]!;
      const paid = await runOrgAction(confirmTestCardDef, admins[w.i]!, { orgSlug: orgs[w.i]!.slug, purchaseId: w.purchaseId, paymentMethod: "pm_card_visa" }, db);
      expect(paid).toEqual({ ok: true, data: { outcome: "processing" } });
      await drainDeliveries();

      const discounted = await db.select().from(purchases).where(and(eq(purchases.couponId, coupon.id), eq(purchases.status, "succeeded")));
      expect(discounted).toHaveLength(3);
      const [redeemed] = await db
        .select({ n: sql<number>`count(*)::int` })
        .from(couponRedemptions)
        .where(and(eq(couponRedemptions.couponId, coupon.id), eq(couponRedemptions.status, "redeemed")));
      expect(redeemed!.n).toBe(3);
      expect((await snapshot(db, orgs[w.i]!.id)).balance).toBe(500);
    } finally {
      await receiver.close();
    }
  });

  it("an abandoned checkout's hold is reclaimed only after its PaymentIntent is cancelled", async () => {
    const pack = await makePack(db);
    const coupon = await makeCoupon(db, { percentOff: 10, maxRedemptions: 1 });
    const a = await makeOrg(db);
    const aAdmin = await makeUser(db, { orgId: a.id, role: "admin" });
    const b = await makeOrg(db);
    const bAdmin = await makeUser(db, { orgId: b.id, role: "admin" });
    const abandoned = await runOrgAction(startTopUpDef, aAdmin, { orgSlug: a.slug, packId: pack.id, couponCode: coupon.code, requestId: crypto.randomUUID() }, db);
    expect(abandoned.ok).toBe(true);
    const blocked = await runOrgAction(startTopUpDef, bAdmin, { orgSlug: b.slug, packId: pack.id, couponCode: coupon.code, requestId: crypto.randomUUID() }, db);
    expect(blocked).toMatchObject({ ok: false, code: "coupon_invalid" });

    expect(await reclaimStaleHolds(db, coupon.code, { olderThanMs: 0 })).toBe(1);
    const [p] = (await snapshot(db, a.id)).purchases;
    expect(p).toMatchObject({ status: "canceled" });
    expect((await stripe().paymentIntents.retrieve(p!.stripePaymentIntentId!)).status).toBe("canceled");
    const [hold] = await db.select().from(couponRedemptions).where(eq(couponRedemptions.purchaseId, p!.id));
    expect(hold!.status).toBe("released");

    const now = await runOrgAction(startTopUpDef, bAdmin, { orgSlug: b.slug, packId: pack.id, couponCode: coupon.code, requestId: crypto.randomUUID() }, db);
    expect(now.ok).toBe(true);
  });

  it("a stale hold whose payment actually succeeded is finalised, not released", async () => {
    const pack = await makePack(db, { credits: 200, amount: 1900 });
    const coupon = await makeCoupon(db, { percentOff: 10, maxRedemptions: 1 });
    const a = await makeOrg(db);
    const aAdmin = await makeUser(db, { orgId: a.id, role: "admin" });
    const r = await runOrgAction(startTopUpDef, aAdmin, { orgSlug: a.slug, packId: pack.id, couponCode: coupon.code, requestId: crypto.randomUUID() }, db);
    if (!r.ok) throw new Error(r.error);
    const piId = (await snapshot(db, a.id)).purchases[0]!.stripePaymentIntentId!;
    await stripe().paymentIntents.confirm(piId, { payment_method: "pm_card_visa" }); // webhook never delivered
    expect(await reclaimStaleHolds(db, coupon.code, { olderThanMs: 0 })).toBe(0);
    const s = await snapshot(db, a.id);
    expect(s.purchases[0]!.status).toBe("succeeded");
    expect(s.balance).toBe(200);
    const [hold] = await db.select().from(couponRedemptions).where(eq(couponRedemptions.purchaseId, r.data.purchaseId));
    expect(hold!.status).toBe("redeemed");
  });

  it("throttles repeated wrong codes per organisation, and says when to try again", async () => {
    const pack = await makePack(db);
    const org = await makeOrg(db);
    const admin = await makeUser(db, { orgId: org.id, role: "admin" });
    const good = await makeCoupon(db, { percentOff: 10 });
    for (let i = 0; i < COUPON_FAILURE_LIMIT; i++) {
      const r = await runOrgAction(quoteTopUpDef, admin, { orgSlug: org.slug, packId: pack.id, couponCode: `WRONG${i}` }, db);
      expect(r).toMatchObject({ ok: false, code: "coupon_invalid", error: expect.stringMatching(/don't recognise/) });
    }
    const limited = await runOrgAction(quoteTopUpDef, admin, { orgSlug: org.slug, packId: pack.id, couponCode: good.code }, db);
    expect(limited).toMatchObject({ ok: false, code: "rate_limited", error: expect.stringMatching(/Too many invalid coupon codes\. Try again in \d+ minutes?/) });
    const start = await runOrgAction(startTopUpDef, admin, { orgSlug: org.slug, packId: pack.id, couponCode: good.code, requestId: crypto.randomUUID() }, db);
    expect(start).toMatchObject({ ok: false, code: "rate_limited" });
    expect((await snapshot(db, org.id)).purchases).toHaveLength(0);

    // Another organisation is not affected.
    const other = await makeOrg(db);
    const otherAdmin = await makeUser(db, { orgId: other.id, role: "admin" });
    const ok = await runOrgAction(quoteTopUpDef, otherAdmin, { orgSlug: other.slug, packId: pack.id, couponCode: good.code }, db);
    expect(ok).toMatchObject({ ok: true, data: { discount: 490, total: 4410 } });
    const [attempts] = await db.select({ n: sql<number>`count(*)::int` }).from(couponAttempts).where(eq(couponAttempts.orgId, org.id));
    expect(attempts!.n).toBe(COUPON_FAILURE_LIMIT);
  });

  it("quotes show the discount before paying and refuse each broken rule clearly", async () => {
    const pack = await makePack(db, { amount: 4900 });
    const org = await makeOrg(db);
    const admin = await makeUser(db, { orgId: org.id, role: "admin" });
    const pct = await makeCoupon(db, { percentOff: 20 });
    const amt = await makeCoupon(db, { percentOff: null, amountOff: 1000, currency: "usd" });
    const expired = await makeCoupon(db, { expiresAt: new Date(Date.now() - 1000) });
    const inactive = await makeCoupon(db, { active: false });
    expect(await runOrgAction(quoteTopUpDef, admin, { orgSlug: org.slug, packId: pack.id, couponCode: pct.code }, db)).toMatchObject({ ok: true, data: { subtotal: 4900, discount: 980, total: 3920 } });
    expect(await runOrgAction(quoteTopUpDef, admin, { orgSlug: org.slug, packId: pack.id, couponCode: amt.code }, db)).toMatchObject({ ok: true, data: { discount: 1000, total: 3900 } });
    expect(await runOrgAction(quoteTopUpDef, admin, { orgSlug: org.slug, packId: pack.id, couponCode: expired.code }, db)).toMatchObject({ ok: false, error: expect.stringMatching(/expired/) });
    expect(await runOrgAction(quoteTopUpDef, admin, { orgSlug: org.slug, packId: pack.id, couponCode: inactive.code }, db)).toMatchObject({ ok: false, error: expect.stringMatching(/no longer active/) });
    expect(await runOrgAction(quoteTopUpDef, admin, { orgSlug: org.slug, packId: pack.id, couponCode: "bad code!" }, db)).toMatchObject({ ok: false, code: "invalid_input" });
  });

  it("first-purchase-only and once-per-organisation coupons", async () => {
    const receiver = await startWebhookReceiver((b, s) => receiveStripeWebhook(db, b, s));
    try {
      const pack = await makePack(db);
      const org = await makeOrg(db);
      const admin = await makeUser(db, { orgId: org.id, role: "admin" });
      const first = await makeCoupon(db, { firstPurchaseOnly: true });
      const once = await makeCoupon(db, { oncePerOrg: true });
      const abandoned = await runOrgAction(startTopUpDef, admin, { orgSlug: org.slug, packId: pack.id, couponCode: once.code, requestId: crypto.randomUUID() }, db);
      if (!abandoned.ok) throw new Error(abandoned.error);
      // The organisation walks away from that checkout and starts again: the code still applies,
      // and the old checkout is cancelled at Stripe before its hold is released.
      expect(await runOrgAction(quoteTopUpDef, admin, { orgSlug: org.slug, packId: pack.id, couponCode: once.code }, db)).toMatchObject({ ok: true });
      const r = await runOrgAction(startTopUpDef, admin, { orgSlug: org.slug, packId: pack.id, couponCode: once.code, requestId: crypto.randomUUID() }, db);
      if (!r.ok) throw new Error(r.error);
      const old = (await snapshot(db, org.id)).purchases.find((p) => p.id === abandoned.data.purchaseId)!;
      expect(old.status).toBe("canceled");
      expect((await stripe().paymentIntents.retrieve(old.stripePaymentIntentId!)).status).toBe("canceled");
      await runOrgAction(confirmTestCardDef, admin, { orgSlug: org.slug, purchaseId: r.data.purchaseId, paymentMethod: "pm_card_visa" }, db);
      await drainDeliveries();
      expect(await runOrgAction(quoteTopUpDef, admin, { orgSlug: org.slug, packId: pack.id, couponCode: once.code }, db)).toMatchObject({ ok: false, error: expect.stringMatching(/already used/) });
      const [redeemed] = await db
        .select({ n: sql<number>`count(*)::int` })
        .from(couponRedemptions)
        .where(and(eq(couponRedemptions.couponId, once.id), eq(couponRedemptions.status, "redeemed")));
      expect(redeemed!.n).toBe(1);
      expect(await runOrgAction(quoteTopUpDef, admin, { orgSlug: org.slug, packId: pack.id, couponCode: first.code }, db)).toMatchObject({ ok: false, error: expect.stringMatching(/first purchase/) });
    } finally {
      await receiver.close();
    }
  });

  it("members cannot apply coupons; admins can", async () => {
    const pack = await makePack(db);
    const org = await makeOrg(db);
    const member = await makeUser(db, { orgId: org.id, role: "member" });
    const coupon = await makeCoupon(db);
    expect(await runOrgAction(quoteTopUpDef, member, { orgSlug: org.slug, packId: pack.id, couponCode: coupon.code }, db)).toMatchObject({ ok: false, code: "forbidden" });
    expect(await runOrgAction(startTopUpDef, member, { orgSlug: org.slug, packId: pack.id, couponCode: coupon.code, requestId: crypto.randomUUID() }, db)).toMatchObject({ ok: false, code: "forbidden" });
    expect((await snapshot(db, org.id)).purchases).toHaveLength(0);
    // Without a coupon a member may top up.
    expect((await runOrgAction(startTopUpDef, member, { orgSlug: org.slug, packId: pack.id, requestId: crypto.randomUUID() }, db)).ok).toBe(true);
  });
});
