// Reconciliation finds planted discrepancies with their cause, fixes the safe one (a payment
// whose webhook never arrived) through settlement, reports the rest, and a second run is clean.
import { describe, expect, it } from "vitest";
import { eq, sql } from "drizzle-orm";
import { auditLog, purchases, reconciliationRuns } from "@/db/schema";
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
import { useTestDatabase } from "../support/context";
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
