// Reconciliation finds planted discrepancies with their cause, fixes the safe ones (a payment or a
// paid subscription invoice whose webhook never arrived) through the normal paths (settlement,
// applyPaidInvoice), reports the rest, and a second run is clean.
import { describe, expect, it } from "vitest";
import { eq, sql } from "drizzle-orm";
import { auditLog, purchases, reconciliationRuns, subscriptions } from "@/db/schema";
import { runOrgAction } from "@/lib/actions/org-action";
import { runStaffAction } from "@/lib/actions/staff-action";
import { runReconciliationDef } from "@/lib/staff/actions";
import { startTopUpCheckoutDef, startTopUpDef } from "@/lib/topups/actions";
import { processStripeEvent } from "@/lib/webhooks/process";
import type Stripe from "stripe";
import { grantCredits } from "@/lib/ledger/ledger";
import { enqueue } from "@/lib/jobs/queue";
import { runQueuedJobs } from "@/lib/jobs/workers";
import { reconcile, type Finding } from "@/lib/reconcile/reconcile";
import { stripe } from "@/lib/stripe/client";
import { receiveStripeWebhook } from "@/lib/webhooks/receive";
import { useTestDatabase } from "../support/context";
import { drainDeliveries, startWebhookReceiver } from "../support/emulator";
import { advanceTo, clockOrg, latestInvoice, subscribePaid, syncPlans } from "../support/subscriptions";
import { makeOrg, makePack, makeUser, snapshot } from "../support/fixtures";

const { db } = useTestDatabase();

async function paidWithoutWebhook() {
  const org = await makeOrg(db);
  const admin = await makeUser(db, { orgId: org.id, role: "admin" });
  const pack = await makePack(db, { credits: 400, amount: 3900 });
  const started = await runOrgAction(startTopUpDef, admin, { orgSlug: org.slug, packId: pack.id, requestId: crypto.randomUUID() }, db);
  if (!started.ok) throw new Error(started.error);
  const pi = (await snapshot(db, org.id)).purchases[0]!.stripePaymentIntentId!;
  await stripe().paymentIntents.confirm(pi, { payment_method: "pm_card_visa" }); // no webhook receiver: never delivered
  return { org, admin, pack, purchaseId: started.data.purchaseId, pi };
}

describe("reconciliation", () => {
  it("finds a missed payment and fixes it through settlement; reports a grant Stripe does not know and a balance that differs from its ledger", async () => {
    const a = await paidWithoutWebhook();
    const staff = await makeUser(db, { isStaff: true });
    expect((await snapshot(db, a.org.id)).balance).toBe(0);

    // Planted: a purchase marked succeeded with credits whose PaymentIntent Stripe never saw succeed.
    const b = await makeOrg(db);
    const bUser = await makeUser(db, { orgId: b.id, role: "admin" });
    const [fake] = await db
      .insert(purchases)
      .values({ orgId: b.id, userId: bUser.id, packId: a.pack.id, requestId: crypto.randomUUID(), credits: 50, subtotal: 500, amount: 500, currency: "usd", status: "succeeded", stripePaymentIntentId: "pi_planted_never_paid", finalizedAt: new Date() })
      .returning();
    await db.transaction((tx) => grantCredits(tx, { orgId: b.id, amount: 50, kind: "purchase", idempotencyKey: `purchase:${fake!.id}`, description: "planted", purchaseId: fake!.id }));
    // Planted: a cached balance that differs from its ledger (restored before the test ends).
    const c = await makeOrg(db);
    await db.execute(sql`update organizations set balance = balance + 7 where id = ${c.id}`);

    const r = await runStaffAction(runReconciliationDef, staff, { mode: "fix" }, db);
    expect(r).toMatchObject({ ok: true, data: { fixed: 1 } });
    const [run] = await db.select().from(reconciliationRuns);
    const findings = run!.findings as Finding[];
    const byKind = (k: string) => findings.filter((f) => f.kind === k);
    expect(byKind("missing_grant")).toMatchObject([{ orgId: a.org.id, purchaseId: a.purchaseId, paymentIntentId: a.pi, fixed: true }]);
    expect(byKind("missing_grant")[0]!.cause).toMatch(/webhook missed/);
    expect(byKind("grant_without_payment")).toMatchObject([{ orgId: b.id, purchaseId: fake!.id, fixed: false }]);
    expect(byKind("balance_mismatch")).toMatchObject([{ orgId: c.id, fixed: false }]);
    expect(byKind("balance_mismatch")[0]!.cause).toBe("Balance 7 but the ledger sums to 0.");

    // The fix went through the normal path: purchase succeeded, one purchase entry, audited.
    const s = await snapshot(db, a.org.id);
    expect(s.purchases[0]!.status).toBe("succeeded");
    expect(s.entries.map((e) => [e.kind, e.amount, e.idempotencyKey])).toEqual([["purchase", 400, `purchase:${a.purchaseId}`]]);
    expect((await db.select().from(auditLog).where(eq(auditLog.action, "reconciliation.fix"))).map((x) => x.targetId)).toEqual([a.purchaseId]);

    // The scheduled job runs the same check: the fixed payment is no longer a difference.
    await db.transaction((tx) => enqueue(tx, "ops.reconcile", {}));
    const jobs = await runQueuedJobs(db, { names: ["ops.reconcile"] });
    expect(jobs).toMatchObject([{ ok: true, output: { fixed: 0 } }]);
    const [second] = await db.select().from(reconciliationRuns).where(sql`${reconciliationRuns.id} = ${(jobs[0]!.output as { runId: string }).runId}`);
    expect((second!.findings as Finding[]).map((f) => f.kind).sort()).toEqual(["balance_mismatch", "grant_without_payment"]);
    expect((await snapshot(db, a.org.id)).entries).toHaveLength(1);

    await db.execute(sql`update organizations set balance = balance - 7 where id = ${c.id}`);
  });

  it("without fix it only reports; non-staff cannot run it", async () => {
    const a = await paidWithoutWebhook();
    const run = await reconcile(db, { fix: false });
    expect((run.findings as Finding[]).map((f) => [f.kind, f.fixed])).toEqual([["missing_grant", false]]);
    expect((await snapshot(db, a.org.id)).balance).toBe(0);
    expect(await runStaffAction(runReconciliationDef, a.admin, { mode: "fix" }, db)).toMatchObject({ ok: false, code: "not_found" });
    expect(await db.select().from(reconciliationRuns)).toHaveLength(1);
    expect((await snapshot(db, a.org.id)).balance).toBe(0);
  });

  it("a hosted checkout paid while its checkout.session.completed was missed: found, linked and granted once", async () => {
    const org = await makeOrg(db);
    const member = await makeUser(db, { orgId: org.id, role: "member" });
    const pack = await makePack(db, { credits: 400, amount: 3900 });
    const started = await runOrgAction(startTopUpCheckoutDef, member, { orgSlug: org.slug, packId: pack.id, requestId: crypto.randomUUID() }, db);
    if (!started.ok) throw new Error(started.error);
    // Paid on the hosted page; no webhook receiver, so nothing is delivered.
    const paid = await fetch(started.data.url, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: "payment_method=pm_card_visa", redirect: "manual" });
    expect(paid.status).toBe(303);
    expect((await snapshot(db, org.id)).purchases[0]).toMatchObject({ status: "pending", stripePaymentIntentId: null });

    const run = await reconcile(db);
    const findings = (run.findings as Finding[]).filter((f) => f.purchaseId === started.data.purchaseId);
    expect(findings.map((f) => [f.kind, f.fixed])).toEqual([["missing_grant", true]]);
    let s = await snapshot(db, org.id);
    expect(s.purchases[0]).toMatchObject({ status: "succeeded", stripePaymentIntentId: findings[0]!.paymentIntentId });
    expect(s.entries).toHaveLength(1);
    expect(s.balance).toBe(400);

    // The missed event arrives late: nothing more.
    const completed = (await stripe().events.list({ type: "checkout.session.completed" })).data[0] as Stripe.Event;
    await processStripeEvent(db, completed);
    s = await snapshot(db, org.id);
    expect(s.entries).toHaveLength(1);
    expect(s.balance).toBe(s.ledgerSum);
  });
});

describe("reconciliation of subscription invoices", () => {
  it("a renewal paid at Stripe while the webhook endpoint was down is found, granted exactly once through applyPaidInvoice, and a second run finds nothing", async () => {
    await syncPlans(db);
    const staff = await makeUser(db, { isStaff: true });
    let up = true;
    const receiver = await startWebhookReceiver(async (body, sig) => (up ? receiveStripeWebhook(db, body, sig) : { status: 503, body: { error: "down" } }));
    try {
      const w = await clockOrg(db);
      await subscribePaid(db, w, "growth", "month");
      const [sub] = await db.select().from(subscriptions).where(eq(subscriptions.orgId, w.org.id));
      const first = await latestInvoice(sub!.stripeSubscriptionId!);
      expect((await snapshot(db, w.org.id)).balance).toBe(4000);
      expect((await reconcile(db, { fix: false })).findings).toEqual([]);

      // The endpoint goes down; a month passes and the renewal is paid at Stripe.
      up = false;
      await advanceTo(w.clock.id, sub!.currentPeriodEnd!.getTime() / 1000 + 2 * 3600);
      const renewal = await latestInvoice(sub!.stripeSubscriptionId!);
      expect(renewal.id).not.toBe(first.id);
      expect(renewal.status).toBe("paid");
      expect((await snapshot(db, w.org.id)).balance).toBe(4000);

      const r = await runStaffAction(runReconciliationDef, staff, { mode: "fix" }, db);
      expect(r).toMatchObject({ ok: true, data: { findings: 1, fixed: 1 } });
      const [run] = await db.select().from(reconciliationRuns).where(sql`${reconciliationRuns.id} = ${r.ok ? r.data.runId : ""}`);
      expect(run!.checkedInvoices).toBe(2);
      const findings = run!.findings as Finding[];
      expect(findings).toMatchObject([{ kind: "missing_invoice_grant", orgId: w.org.id, orgSlug: w.org.slug, invoiceId: renewal.id, fixed: true }]);
      expect(findings[0]!.cause).toMatch(/invoice\.paid missed/);
      expect(findings[0]!.fix).toMatch(/applyPaidInvoice: .*period granted 4000/);

      // Fixed through the normal path: one grant keyed by the invoice, the mirror moved on, audited.
      let s = await snapshot(db, w.org.id);
      expect(s.balance).toBe(8000);
      expect(s.entries.filter((e) => e.kind === "subscription_grant").map((e) => [e.idempotencyKey, e.amount]).sort()).toEqual(
        [[`invoice:${first.id}`, 4000], [`invoice:${renewal.id}`, 4000]].sort(),
      );
      const [mirror] = await db.select().from(subscriptions).where(eq(subscriptions.orgId, w.org.id));
      expect(mirror!.currentPeriodStart!.getTime()).toBe(sub!.currentPeriodEnd!.getTime());
      expect((await db.select().from(auditLog).where(eq(auditLog.action, "reconciliation.fix"))).map((a) => [a.targetType, a.targetId, a.actorUserId])).toEqual([["invoice", renewal.id, staff.id]]);

      // A second run finds nothing; the late webhook (endpoint back up) grants nothing more.
      expect((await reconcile(db)).findings).toEqual([]);
      up = true;
      await drainDeliveries(30_000);
      s = await snapshot(db, w.org.id);
      expect(s.balance).toBe(8000);
      expect(s.entries.filter((e) => e.idempotencyKey === `invoice:${renewal.id}`)).toHaveLength(1);
      expect((await reconcile(db)).findings).toEqual([]);
    } finally {
      await receiver.close();
    }
  });

  it("reports without fixing in report mode, and reports a grant for an invoice Stripe does not know and a grant that differs from the invoice", async () => {
    await syncPlans(db);
    const w = await clockOrg(db);
    await subscribePaid(db, w, "scale", "month");
    const [sub] = await db.select().from(subscriptions).where(eq(subscriptions.orgId, w.org.id));
    await advanceTo(w.clock.id, sub!.currentPeriodEnd!.getTime() / 1000 + 2 * 3600); // no receiver: invoice.paid never arrives
    const renewal = await latestInvoice(sub!.stripeSubscriptionId!);
    const before = (await snapshot(db, w.org.id)).balance;

    const reported = await reconcile(db, { fix: false });
    expect((reported.findings as Finding[]).map((f) => [f.kind, f.invoiceId, f.fixed])).toEqual([["missing_invoice_grant", renewal.id, false]]);
    expect((await snapshot(db, w.org.id)).balance).toBe(before);

    // Planted: the renewal granted with the wrong amount, and a grant for an invoice that never existed.
    const other = await makeOrg(db);
    await db.transaction((tx) => grantCredits(tx, { orgId: w.org.id, amount: 999, kind: "subscription_grant", idempotencyKey: `invoice:${renewal.id}`, description: "planted" }));
    await db.transaction((tx) => grantCredits(tx, { orgId: other.id, amount: 50, kind: "subscription_grant", idempotencyKey: "invoice:in_planted_never_paid", description: "planted" }));
    const run = await reconcile(db);
    const kinds = (run.findings as Finding[]).map((f) => [f.kind, f.invoiceId, f.orgId, f.fixed]);
    expect(kinds).toEqual([
      ["invoice_grant_mismatch", renewal.id, w.org.id, false],
      ["invoice_grant_without_payment", "in_planted_never_paid", other.id, false],
    ]);
    expect((run.findings as Finding[])[0]!.cause).toMatch(/grants 15000 credits .* the ledger has 999/);
    expect(run.fixed).toBe(0);
  });
});
