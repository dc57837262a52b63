// Balance care for every entry that takes credits away, not only deliveries: a staff correction,
// an expiry entry, a refund reversal and a dispute that take the balance below the low-balance
// threshold each record exactly one notification per crossing (and re-arm once the balance is
// back above). Auto-recharge follows corrections and expiry (the credits are gone as if spent),
// never refunds or disputes (the money went back to the customer: charging the card again by
// itself would undo the refund or repeat a charged-back payment).
import { describe, expect, it } from "vitest";
import { and, eq, sql } from "drizzle-orm";
import { notifications } from "@/db/schema";
import { adjustCredits } from "@/lib/ledger/adjustments";
import { expireGrant } from "@/lib/ledger/expiry";
import { grantCredits } from "@/lib/ledger/ledger";
import { runQueuedJobs } from "@/lib/jobs/workers";
import { runOrgAction } from "@/lib/actions/org-action";
import { runStaffAction } from "@/lib/actions/staff-action";
import { refundPurchaseDef } from "@/lib/staff/actions";
import { startTopUpDef } from "@/lib/topups/actions";
import { saveCard, setAutoRecharge, setLowBalanceThreshold } from "@/lib/balance-care/settings";
import { stripe } from "@/lib/stripe/client";
import { useTestDatabase } from "../support/context";
import { closeDispute, drainDeliveries, openDispute, resendEvent, useWebhookReceiver } from "../support/emulator";
import { makeOrg, makePack, makeUser, snapshot } from "../support/fixtures";
import { fund } from "../support/deliveries";

const { db } = useTestDatabase();
useWebhookReceiver(db);

async function lowBalanceNotes(orgId: string) {
  return db.select().from(notifications).where(and(eq(notifications.orgId, orgId), eq(notifications.kind, "low_balance"))).orderBy(notifications.createdAt);
}
async function autoRechargeJobs(orgId: string) {
  const rows = await db.execute<{ n: number }>(sql`SELECT count(*)::int AS n FROM pgboss.job WHERE name = 'balance.auto-recharge' AND data->>'orgId' = ${orgId}`);
  return rows[0]!.n;
}

async function world(balance: number, opts: { autoRecharge?: boolean } = {}) {
  const org = await makeOrg(db);
  const admin = await makeUser(db, { orgId: org.id, role: "admin" });
  const staff = await makeUser(db, { isStaff: true });
  if (balance > 0) await fund(db, org.id, balance);
  await setLowBalanceThreshold(db, { orgId: org.id, threshold: 100 });
  if (opts.autoRecharge) {
    const pack = await makePack(db, { credits: 500, amount: 4900 });
    await saveCard(db, { org, userId: admin.id, requestId: crypto.randomUUID(), paymentMethod: "pm_card_visa" });
    await setAutoRecharge(db, { orgId: org.id, enabled: true, threshold: 100, packId: pack.id });
  }
  return { org, admin, staff };
}

const correction = (w: { org: { id: string }; staff: { id: string } }, amount: number) =>
  adjustCredits(db, { orgId: w.org.id, kind: amount > 0 ? "bonus" : "correction", amount, reason: "test correction", actorUserId: w.staff.id, requestId: crypto.randomUUID() });

describe("threshold crossings by entries other than deliveries", () => {
  it("a staff correction below the threshold records one notification per crossing and starts auto-recharge", async () => {
    const w = await world(200, { autoRecharge: true });
    await correction(w, -150); // 200 → 50: crossing
    let notes = await lowBalanceNotes(w.org.id);
    expect(notes).toHaveLength(1);
    expect(notes[0]!.data).toMatchObject({ threshold: 100, balance: 50 });
    expect(await autoRechargeJobs(w.org.id)).toBe(1);

    await correction(w, -10); // still below: nothing new
    expect(await lowBalanceNotes(w.org.id)).toHaveLength(1);

    const runs = await runQueuedJobs(db, { names: ["balance.auto-recharge"] });
    expect(runs).toMatchObject([{ ok: true, output: { outcome: "paid" } }]); // 40 → 540
    expect((await snapshot(db, w.org.id)).balance).toBe(540);

    await correction(w, -500); // 540 → 40: a second crossing (re-armed by the recharge)
    notes = await lowBalanceNotes(w.org.id);
    expect(notes).toHaveLength(2);
    expect(await autoRechargeJobs(w.org.id)).toBe(2);
  });

  it("an expiry entry below the threshold records one notification and starts auto-recharge; the job again adds nothing", async () => {
    const w = await world(0, { autoRecharge: true });
    const bucket = await db.transaction(async (tx) => {
      await grantCredits(tx, { orgId: w.org.id, amount: 20, kind: "purchase", idempotencyKey: "purchase:x", description: "x" });
      return grantCredits(tx, { orgId: w.org.id, amount: 150, kind: "subscription_grant", idempotencyKey: "invoice:in_x", description: "plan", expiresAt: new Date(Date.now() + 1000) });
    });
    const later = new Date(Date.now() + 60_000);
    expect(await expireGrant(db, bucket.bucketId!, later)).toMatchObject({ outcome: "expired", credits: 150 }); // 170 → 20
    expect(await expireGrant(db, bucket.bucketId!, later)).toMatchObject({ outcome: "already" });
    const notes = await lowBalanceNotes(w.org.id);
    expect(notes).toHaveLength(1);
    expect(notes[0]!.data).toMatchObject({ balance: 20 });
    expect(await autoRechargeJobs(w.org.id)).toBe(1);
  });

  describe("money going back", () => {
    async function paid(w: Awaited<ReturnType<typeof world>>, credits = 300) {
      const pack = await makePack(db, { credits, amount: 2900 });
      const started = await runOrgAction(startTopUpDef, w.admin, { orgSlug: w.org.slug, packId: pack.id, requestId: crypto.randomUUID() }, db);
      if (!started.ok) throw new Error(started.error);
      const pi = (await snapshot(db, w.org.id)).purchases.find((p) => p.id === started.data.purchaseId)!.stripePaymentIntentId!;
      const confirmed = await stripe().paymentIntents.confirm(pi, { payment_method: "pm_card_visa" });
      await drainDeliveries();
      return { purchaseId: started.data.purchaseId, chargeId: String(confirmed.latest_charge) };
    }

    it("a refund reversal below the threshold records one notification (duplicates add none) and no auto-recharge", async () => {
      const w = await world(0, { autoRecharge: true });
      const p = await paid(w); // 0 → 300
      expect((await snapshot(db, w.org.id)).balance).toBe(300);
      const r = await runStaffAction(refundPurchaseDef, w.staff, { purchaseId: p.purchaseId, amount: "", reason: "customer asked", requestId: crypto.randomUUID() }, db);
      expect(r.ok).toBe(true);
      await runQueuedJobs(db, { names: ["stripe.create-refund"] });
      await drainDeliveries(); // charge.refunded: 300 → 0
      expect((await snapshot(db, w.org.id)).balance).toBe(0);
      const refunded = (await stripe().events.list({ type: "charge.refunded", limit: 1 })).data[0]!;
      await resendEvent(refunded.id);
      await drainDeliveries();
      const notes = await lowBalanceNotes(w.org.id);
      expect(notes).toHaveLength(1);
      expect(notes[0]!.data).toMatchObject({ threshold: 100, balance: 0 });
      expect(await autoRechargeJobs(w.org.id)).toBe(0);
    });

    it("a dispute below the threshold records one notification; won restores (re-arms); a second dispute crossing records another", async () => {
      const w = await world(0);
      const p = await paid(w); // 0 → 300
      const d = await openDispute(p.chargeId);
      await drainDeliveries(); // 300 → 0
      expect((await snapshot(db, w.org.id)).balance).toBe(0);
      expect(await lowBalanceNotes(w.org.id)).toHaveLength(1);
      await closeDispute(d.id, "won");
      await drainDeliveries(); // 0 → 300
      expect((await snapshot(db, w.org.id)).balance).toBe(300);
      expect(await lowBalanceNotes(w.org.id)).toHaveLength(1);
      const p2 = await paid(w, 50); // 300 → 350
      await openDispute(p2.chargeId);
      await drainDeliveries(); // 350 → 300: still above, no crossing
      expect(await lowBalanceNotes(w.org.id)).toHaveLength(1);
      await correction(w, -250); // 300 → 50: crossing by a correction
      expect(await lowBalanceNotes(w.org.id)).toHaveLength(2);
    });
  });
});
