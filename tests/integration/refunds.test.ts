// Refunds and disputes through the emulator, asserted on the database: a staff refund (full or
// partial) is a request row + audit + job; the job refunds once at Stripe; charge.refunded
// reverses the refunded share (the balance may go negative, and spending then stops); a dispute
// flags the organisation and reverses, won restores, lost keeps the reversal; replays change nothing.
import { describe, expect, it } from "vitest";
import { and, eq, sql } from "drizzle-orm";
import type Stripe from "stripe";
import { auditLog, creditEntries, disputes, purchases, refunds, stripeEvents } from "@/db/schema";
import { runOrgAction } from "@/lib/actions/org-action";
import { runStaffAction } from "@/lib/actions/staff-action";
import { refundPurchaseDef, replayEventDef } from "@/lib/staff/actions";
import { startTopUpDef } from "@/lib/topups/actions";
import { debitCredits } from "@/lib/ledger/ledger";
import { runQueuedJobs } from "@/lib/jobs/workers";
import { stripe } from "@/lib/stripe/client";
import { receiveStripeWebhook } from "@/lib/webhooks/receive";
import { processStripeEvent } from "@/lib/webhooks/process";
import { applyDispute } from "@/lib/refunds/reversal";
import { useTestDatabase } from "../support/context";
import { closeDispute, drainDeliveries, escalateDispute, openDispute, startWebhookReceiver } from "../support/emulator";
import { makeOrg, makePack, makeUser, snapshot } from "../support/fixtures";

const { db } = useTestDatabase();

async function paidWorld(opts: { credits?: number; amount?: number } = {}) {
  const org = await makeOrg(db);
  const admin = await makeUser(db, { orgId: org.id, role: "admin" });
  const staff = await makeUser(db, { isStaff: true });
  const pack = await makePack(db, { credits: opts.credits ?? 300, amount: opts.amount ?? 2900 });
  const receiver = await startWebhookReceiver((body, sig) => receiveStripeWebhook(db, body, sig));
  const started = await runOrgAction(startTopUpDef, admin, { orgSlug: org.slug, packId: pack.id, requestId: crypto.randomUUID() }, db);
  if (!started.ok) throw new Error(started.error);
  const purchaseId = started.data.purchaseId;
  const pi = (await snapshot(db, org.id)).purchases[0]!.stripePaymentIntentId!;
  const confirmed = await stripe().paymentIntents.confirm(pi, { payment_method: "pm_card_visa" });
  await drainDeliveries();
  expect((await snapshot(db, org.id)).balance).toBe(opts.credits ?? 300);
  return { org, admin, staff, purchaseId, pi, chargeId: String(confirmed.latest_charge), receiver };
}

const refundAndSettle = async (w: Awaited<ReturnType<typeof paidWorld>>, amount: number | "", reason = "customer asked") => {
  const r = await runStaffAction(refundPurchaseDef, w.staff, { purchaseId: w.purchaseId, amount: String(amount), reason, requestId: crypto.randomUUID() }, db);
  if (r.ok) {
    await runQueuedJobs(db, { names: ["stripe.create-refund"] });
    await drainDeliveries();
  }
  return r;
};

describe("refunds", () => {
  it("a full refund: request row, audit, one refund at Stripe (job run twice), credits reversed once", async () => {
    const w = await paidWorld();
    try {
      const r = await runStaffAction(refundPurchaseDef, w.staff, { purchaseId: w.purchaseId, amount: "", reason: "duplicate order", requestId: crypto.randomUUID() }, db);
      expect(r).toMatchObject({ ok: true, data: { amount: 2900, status: "pending" } });
      const [audit] = await db.select().from(auditLog).where(eq(auditLog.action, "refund.request"));
      expect(audit).toMatchObject({ actorUserId: w.staff.id, orgId: w.org.id, targetId: w.purchaseId });
      // Nothing reversed before Stripe says so.
      expect((await snapshot(db, w.org.id)).balance).toBe(300);

      const runs = await runQueuedJobs(db, { names: ["stripe.create-refund"] });
      expect(runs).toMatchObject([{ ok: true, output: { status: "succeeded" } }]);
      // The job again (a crash before completion): same idempotency key, still one refund.
      const { runCreateRefundJob } = await import("@/lib/refunds/request");
      await db.update(refunds).set({ status: "pending" });
      await runCreateRefundJob(db, { refundId: r.ok ? r.data.refundId : "" });
      expect((await stripe().refunds.list({ payment_intent: w.pi })).data).toHaveLength(1);

      await drainDeliveries();
      const s = await snapshot(db, w.org.id);
      expect(s.balance).toBe(0);
      expect(s.entries.map((e) => [e.kind, e.amount])).toEqual([["purchase", 300], ["refund_reversal", -300]]);
      const [row] = await db.select().from(refunds);
      expect(row).toMatchObject({ status: "succeeded", amount: 2900 });
      expect(row!.stripeRefundId).toMatch(/^re_/);

      // Replaying charge.refunded changes nothing; a further refund is refused and writes nothing.
      const [ev] = await db.select().from(stripeEvents).where(eq(stripeEvents.type, "charge.refunded"));
      expect(await runStaffAction(replayEventDef, w.staff, { eventId: ev!.id }, db)).toMatchObject({ ok: true, data: { result: "duplicate" } });
      expect(await runStaffAction(refundPurchaseDef, w.staff, { purchaseId: w.purchaseId, amount: "1", reason: "again", requestId: crypto.randomUUID() }, db)).toMatchObject({ ok: false, code: "conflict" });
      expect(await db.select().from(refunds)).toHaveLength(1);
      expect((await snapshot(db, w.org.id)).entries).toHaveLength(2);
    } finally {
      await w.receiver.close();
    }
  });

  it("partial refunds reverse their share, cumulatively, and together take back every credit", async () => {
    const w = await paidWorld({ credits: 300, amount: 2900 });
    try {
      expect((await refundAndSettle(w, 1000)).ok).toBe(true);
      let s = await snapshot(db, w.org.id);
      expect(s.balance).toBe(300 - Math.floor((300 * 1000) / 2900)); // 103 reversed
      // More than what is left: refused, nothing written.
      expect(await refundAndSettle(w, 1901)).toMatchObject({ ok: false, code: "conflict" });
      expect(await refundAndSettle(w, 1900)).toMatchObject({ ok: true });
      s = await snapshot(db, w.org.id);
      expect(s.balance).toBe(0);
      expect(s.entries.filter((e) => e.kind === "refund_reversal").map((e) => e.amount)).toEqual([-103, -197]);
      expect(await db.select().from(refunds)).toHaveLength(2);
    } finally {
      await w.receiver.close();
    }
  });

  it("a refund after spending leaves a negative balance, and spending stops until it is covered", async () => {
    const w = await paidWorld();
    try {
      const spent = await db.transaction((tx) => debitCredits(tx, { orgId: w.org.id, credits: 200, idempotencyKey: "delivery:test-1", description: "delivery" }));
      expect(spent).not.toBeNull();
      await refundAndSettle(w, "");
      expect((await snapshot(db, w.org.id)).balance).toBe(-200);
      const refused = await db.transaction((tx) => debitCredits(tx, { orgId: w.org.id, credits: 1, idempotencyKey: "delivery:test-2", description: "delivery" }));
      expect(refused).toBeNull();
      expect((await snapshot(db, w.org.id)).balance).toBe(-200);
    } finally {
      await w.receiver.close();
    }
  });

  it("Stripe refusing the refund (already refunded in the dashboard) marks the request failed; no double reversal", async () => {
    const w = await paidWorld();
    try {
      await stripe().refunds.create({ payment_intent: w.pi }); // someone refunded in Stripe's dashboard
      await drainDeliveries();
      expect((await snapshot(db, w.org.id)).balance).toBe(0);
      const r = await refundAndSettle(w, "");
      expect(r.ok).toBe(true);
      const [row] = await db.select().from(refunds);
      expect(row!.status).toBe("failed");
      expect(row!.failureMessage).toMatch(/already been refunded/);
      expect((await snapshot(db, w.org.id)).entries.filter((e) => e.kind === "refund_reversal")).toHaveLength(1);
    } finally {
      await w.receiver.close();
    }
  });

  it("bad refund input is refused and writes nothing", async () => {
    const w = await paidWorld();
    try {
      for (const bad of [
        { purchaseId: w.purchaseId, amount: "0", reason: "x reason", requestId: crypto.randomUUID() },
        { purchaseId: w.purchaseId, amount: "-5", reason: "x reason", requestId: crypto.randomUUID() },
        { purchaseId: w.purchaseId, amount: "1.5", reason: "x reason", requestId: crypto.randomUUID() },
        { purchaseId: w.purchaseId, amount: "abc", reason: "x reason", requestId: crypto.randomUUID() },
        { purchaseId: w.purchaseId, amount: "999999999999", reason: "x reason", requestId: crypto.randomUUID() },
        { purchaseId: w.purchaseId, amount: "", reason: "", requestId: crypto.randomUUID() },
        { purchaseId: w.purchaseId, amount: "", reason: "x reason" },
        { purchaseId: w.purchaseId, amount: "", reason: "x reason", requestId: "not-a-uuid" },
        { purchaseId: "nope", amount: "", reason: "x reason", requestId: crypto.randomUUID() },
        { purchaseId: crypto.randomUUID(), amount: "", reason: "x reason", requestId: crypto.randomUUID() },
      ]) {
        const r = await runStaffAction(refundPurchaseDef, w.staff, bad, db);
        expect(r.ok, JSON.stringify(bad)).toBe(false);
        if (!r.ok) expect(["invalid_input", "not_found"]).toContain(r.code);
      }
      expect(await db.select().from(refunds)).toHaveLength(0);
      expect(await db.select().from(auditLog)).toHaveLength(0);
      // Not staff: not_found, nothing written.
      expect(await runStaffAction(refundPurchaseDef, w.admin, { purchaseId: w.purchaseId, amount: "", reason: "x reason", requestId: crypto.randomUUID() }, db)).toMatchObject({ ok: false, code: "not_found" });
      expect(await db.select().from(refunds)).toHaveLength(0);
    } finally {
      await w.receiver.close();
    }
  });
});

describe("a refund request resubmitted (lost response, reload, replayed post)", () => {
  // The staff form keeps its request id until success, so a resubmission carries the same one.
  // Each refunds row has its own Stripe key (refund:<row id>): a second row would be a second
  // refund at Stripe and a second reversal of credits.
  const createRefundJobs = async () =>
    (await db.execute<{ n: number }>(sql`SELECT count(*)::int AS n FROM pgboss.job WHERE name = 'stripe.create-refund'`))[0]!.n;

  it("the same request twice: one row, one job, one refund at Stripe, one reversal; the same answer both times", async () => {
    const w = await paidWorld();
    try {
      const input = { purchaseId: w.purchaseId, amount: "1000", reason: "customer asked", requestId: crypto.randomUUID() };
      const first = await runStaffAction(refundPurchaseDef, w.staff, input, db);
      expect(first).toMatchObject({ ok: true, data: { amount: 1000, status: "pending" } });
      const again = await runStaffAction(refundPurchaseDef, w.staff, input, db);

      await runQueuedJobs(db, { names: ["stripe.create-refund"] });
      await drainDeliveries();
      // Stripe's side first: the money went back once.
      expect((await stripe().refunds.list({ payment_intent: w.pi })).data.map((r) => r.amount)).toEqual([1000]);
      const s = await snapshot(db, w.org.id);
      expect(s.entries.filter((e) => e.kind === "refund_reversal").map((e) => e.amount)).toEqual([-103]);
      expect(s.balance).toBe(197);
      expect(await db.select().from(refunds)).toMatchObject([{ requestId: input.requestId, amount: 1000, status: "succeeded" }]);
      expect(await db.select().from(auditLog).where(eq(auditLog.action, "refund.request"))).toHaveLength(1);
      expect(await createRefundJobs()).toBe(1);
      expect(again).toEqual(first);

      // Resubmitted after it went through: still that refund (now succeeded), nothing new.
      expect(await runStaffAction(refundPurchaseDef, w.staff, input, db)).toMatchObject({ ok: true, data: { refundId: first.ok ? first.data.refundId : "", amount: 1000, status: "succeeded" } });
      expect(await db.select().from(refunds)).toHaveLength(1);
      expect(await createRefundJobs()).toBe(1);
    } finally {
      await w.receiver.close();
    }
  });

  it("two identical requests at once: one row, one job", async () => {
    const w = await paidWorld();
    try {
      const input = { purchaseId: w.purchaseId, amount: "1000", reason: "customer asked", requestId: crypto.randomUUID() };
      const [a, b] = await Promise.all([runStaffAction(refundPurchaseDef, w.staff, input, db), runStaffAction(refundPurchaseDef, w.staff, input, db)]);
      expect(a).toMatchObject({ ok: true });
      expect(b).toEqual(a);
      expect(await db.select().from(refunds)).toHaveLength(1);
      expect(await createRefundJobs()).toBe(1);
    } finally {
      await w.receiver.close();
    }
  });

  it("the same request id for another amount or another purchase is refused and writes nothing", async () => {
    const w = await paidWorld();
    try {
      const requestId = crypto.randomUUID();
      expect((await runStaffAction(refundPurchaseDef, w.staff, { purchaseId: w.purchaseId, amount: "1000", reason: "customer asked", requestId }, db)).ok).toBe(true);
      const other = await paidWorld();
      try {
        for (const input of [
          { purchaseId: w.purchaseId, amount: "500", reason: "customer asked", requestId },
          // Blank is "the rest of the payment" (1900 now), not the 1000 asked before.
          { purchaseId: w.purchaseId, amount: "", reason: "customer asked", requestId },
          { purchaseId: other.purchaseId, amount: "1000", reason: "customer asked", requestId },
        ]) {
          const r = await runStaffAction(refundPurchaseDef, w.staff, input, db);
          expect(r, JSON.stringify(input)).toMatchObject({ ok: false, code: "conflict", error: expect.stringMatching(/already used for a different refund/) });
        }
        expect(await db.select().from(refunds)).toMatchObject([{ purchaseId: w.purchaseId, amount: 1000 }]);
        expect(await db.select().from(auditLog).where(eq(auditLog.action, "refund.request"))).toHaveLength(1);
        expect(await createRefundJobs()).toBe(1);
      } finally {
        await other.receiver.close();
      }
    } finally {
      await w.receiver.close();
    }
  });
});

describe("disputes", () => {
  it("opened: organisation flagged and credits reversed; won: restored; replays change nothing", async () => {
    const w = await paidWorld();
    try {
      const dp = await openDispute(w.chargeId);
      await drainDeliveries();
      let s = await snapshot(db, w.org.id);
      expect(s.balance).toBe(0);
      expect(s.entries.at(-1)).toMatchObject({ kind: "refund_reversal", amount: -300, idempotencyKey: `dispute:${dp.id}` });
      const [row] = await db.select().from(disputes);
      expect(row).toMatchObject({ stripeDisputeId: dp.id, orgId: w.org.id, status: "needs_response", closedAt: null });

      await closeDispute(dp.id, "won");
      await drainDeliveries();
      s = await snapshot(db, w.org.id);
      expect(s.balance).toBe(300);
      expect(s.entries.at(-1)).toMatchObject({ kind: "adjustment", amount: 300, idempotencyKey: `dispute:${dp.id}:won` });
      const [closed] = await db.select().from(disputes);
      expect(closed!.status).toBe("won");
      expect(closed!.closedAt).not.toBeNull();

      // A late replay of "created" after the win: the handler re-fetches (won), nothing changes.
      const created = await db.select().from(stripeEvents).where(eq(stripeEvents.type, "charge.dispute.created"));
      const { processStripeEvent } = await import("@/lib/webhooks/process");
      await db.execute(sql`delete from stripe_events where id = ${created[0]!.id}`);
      await processStripeEvent(db, created[0]!.payload as never);
      expect((await snapshot(db, w.org.id)).entries).toHaveLength(3);
      expect((await snapshot(db, w.org.id)).balance).toBe(300);
    } finally {
      await w.receiver.close();
    }
  });

  it("lost (partial dispute): its share stays reversed, nothing is restored", async () => {
    const w = await paidWorld();
    try {
      const dp = await openDispute(w.chargeId, { amount: 1450 });
      await drainDeliveries();
      expect((await snapshot(db, w.org.id)).balance).toBe(150);
      await closeDispute(dp.id, "lost");
      await drainDeliveries();
      const s = await snapshot(db, w.org.id);
      expect(s.balance).toBe(150);
      expect(s.entries.filter((e) => e.kind === "refund_reversal")).toHaveLength(1);
      const [row] = await db.select().from(disputes).where(and(eq(disputes.stripeDisputeId, dp.id)));
      expect(row!.status).toBe("lost");
      expect(await db.select().from(creditEntries).where(eq(creditEntries.idempotencyKey, `dispute:${dp.id}:won`))).toHaveLength(0);
    } finally {
      await w.receiver.close();
    }
  });

  it("a dispute after a partial refund takes back only what is left", async () => {
    const w = await paidWorld();
    try {
      await refundAndSettle(w, 1450); // 150 credits reversed
      expect((await snapshot(db, w.org.id)).balance).toBe(150);
      const dp = await openDispute(w.chargeId); // the unrefunded 1450
      await drainDeliveries();
      const s = await snapshot(db, w.org.id);
      expect(s.balance).toBe(0);
      expect(s.entries.filter((e) => e.kind === "refund_reversal").map((e) => [e.idempotencyKey.split(":")[0], e.amount])).toEqual([["refund", -150], ["dispute", -150]]);
      expect(dp.amount).toBe(1450);
    } finally {
      await w.receiver.close();
    }
  });
});

/** A top-up paid at the emulator whose payment_intent.succeeded has not reached us (no receiver). */
async function paidUndelivered() {
  const org = await makeOrg(db);
  const admin = await makeUser(db, { orgId: org.id, role: "admin" });
  const pack = await makePack(db, { credits: 300, amount: 2900 });
  const started = await runOrgAction(startTopUpDef, admin, { orgSlug: org.slug, packId: pack.id, requestId: crypto.randomUUID() }, db);
  if (!started.ok) throw new Error(started.error);
  const pi = (await snapshot(db, org.id)).purchases[0]!.stripePaymentIntentId!;
  const confirmed = await stripe().paymentIntents.confirm(pi, { payment_method: "pm_card_visa" });
  return { org, purchaseId: started.data.purchaseId, pi, chargeId: String(confirmed.latest_charge), succeeded: await eventAbout("payment_intent.succeeded", pi) };
}

/** The emulator's event of this type about this PaymentIntent (the intent itself, or its charge or dispute). */
async function eventAbout(type: Stripe.Event.Type, pi: string): Promise<Stripe.Event> {
  const events = await stripe().events.list({ type, limit: 20 });
  const event = events.data.find((e) => {
    const o = e.data.object as { id: string; payment_intent?: string | null };
    return o.id === pi || o.payment_intent === pi;
  });
  if (!event) throw new Error(`no ${type} event for ${pi}`);
  return event;
}

const eventRow = async (id: string) => (await db.select().from(stripeEvents).where(eq(stripeEvents.id, id)))[0];

describe("a refund or dispute that arrives before the payment's success", () => {
  // payment_intent.succeeded failed (500) and waits for Stripe's retry; meanwhile the payment is
  // refunded or disputed. Answering "no credits to reverse" would mark the event processed, and
  // the late success would then grant credits whose money went back.
  it("charge.refunded before the grant fails (recorded, nothing written); its retry after the grant reverses it", async () => {
    const { org, purchaseId, pi, succeeded } = await paidUndelivered();
    await stripe().refunds.create({ payment_intent: pi }); // in Stripe's dashboard
    const refunded = await eventAbout("charge.refunded", pi);

    await expect(processStripeEvent(db, refunded)).rejects.toThrow(/not granted yet/);
    expect(await eventRow(refunded.id)).toMatchObject({ processedAt: null, attempts: 1, lastError: expect.stringMatching(/not granted yet/) });
    expect((await snapshot(db, org.id)).entries).toEqual([]);

    expect(await processStripeEvent(db, succeeded)).toMatchObject({ result: "processed" });
    expect(await processStripeEvent(db, refunded)).toEqual({ result: "processed", detail: `purchase ${purchaseId}: 300 credits reversed` });
    const s = await snapshot(db, org.id);
    expect(s.balance).toBe(0);
    expect(s.entries.map((e) => [e.kind, e.amount])).toEqual([["purchase", 300], ["refund_reversal", -300]]);
    expect(s.purchases[0]).toMatchObject({ id: purchaseId, status: "succeeded" });
    expect(await eventRow(refunded.id)).toMatchObject({ attempts: 2, lastError: null });
    expect((await eventRow(refunded.id))!.processedAt).not.toBeNull();
  });

  it("a refund of a purchase not yet linked to its intent is found by the charge's metadata and waits too", async () => {
    const { org, purchaseId, pi, succeeded } = await paidUndelivered();
    // The webhook overtook the write of the link (lib/topups/settle.ts lockPurchaseForIntent).
    await db.update(purchases).set({ stripePaymentIntentId: null }).where(eq(purchases.id, purchaseId));
    await stripe().refunds.create({ payment_intent: pi, amount: 1450 });
    const refunded = await eventAbout("charge.refunded", pi);

    await expect(processStripeEvent(db, refunded)).rejects.toThrow(/not granted yet/);
    expect((await snapshot(db, org.id)).entries).toEqual([]);

    await processStripeEvent(db, succeeded);
    await processStripeEvent(db, refunded);
    const s = await snapshot(db, org.id);
    expect(s.balance).toBe(150);
    expect(s.entries.map((e) => [e.kind, e.amount])).toEqual([["purchase", 300], ["refund_reversal", -150]]);
    expect(s.purchases[0]).toMatchObject({ status: "succeeded", stripePaymentIntentId: pi });
  });

  it("a dispute before the grant fails (no dispute row, nothing reversed); its retry after the grant reverses it", async () => {
    const { org, purchaseId, pi, chargeId, succeeded } = await paidUndelivered();
    const dp = await openDispute(chargeId);
    const created = await eventAbout("charge.dispute.created", pi);

    await expect(processStripeEvent(db, created)).rejects.toThrow(/not granted yet/);
    expect((await snapshot(db, org.id)).entries).toEqual([]);
    expect(await db.select().from(disputes)).toEqual([]);

    await processStripeEvent(db, succeeded);
    expect(await processStripeEvent(db, created)).toEqual({ result: "processed", detail: `dispute ${dp.id} needs_response: 300 credits reversed` });
    const s = await snapshot(db, org.id);
    expect(s.balance).toBe(0);
    expect(s.entries.map((e) => [e.kind, e.amount, e.idempotencyKey])).toEqual([["purchase", 300, `purchase:${purchaseId}`], ["refund_reversal", -300, `dispute:${dp.id}`]]);
    expect(await db.select().from(disputes)).toMatchObject([{ stripeDisputeId: dp.id, purchaseId, status: "needs_response", closedAt: null }]);
  });

  it("a refund of a purchase held for review (never granted by itself) is processed and reverses nothing", async () => {
    const { org, purchaseId, pi } = await paidUndelivered();
    await db.update(purchases).set({ status: "needs_review", reviewReason: "amount differs", finalizedAt: new Date() }).where(eq(purchases.id, purchaseId));
    await stripe().refunds.create({ payment_intent: pi });
    const refunded = await eventAbout("charge.refunded", pi);
    expect(await processStripeEvent(db, refunded)).toMatchObject({ result: "processed", detail: expect.stringMatching(/needs_review/) });
    expect((await snapshot(db, org.id)).entries).toEqual([]);
  });
});

describe("inquiries (warning_* disputes: no money withdrawn)", () => {
  type W = Awaited<ReturnType<typeof paidWorld>>;
  /** The dispute as Stripe reports it, applied as the handler applies it after the re-fetch. */
  const apply = (w: W, status: Stripe.Dispute.Status, id = "dp_inquiry_1") =>
    db.transaction((tx) => applyDispute(tx, { id, object: "dispute", amount: 2900, charge: w.chargeId, payment_intent: w.pi, status, reason: "fraudulent" } as Stripe.Dispute));
  const row = async () => (await db.select().from(disputes))[0]!;

  it("an inquiry is recorded and reverses nothing; closed (warning_closed) it closes the row, still nothing reversed", async () => {
    const w = await paidWorld();
    try {
      for (const status of ["warning_needs_response", "warning_under_review"] as const) {
        await apply(w, status);
        expect(await row()).toMatchObject({ stripeDisputeId: "dp_inquiry_1", orgId: w.org.id, status, closedAt: null });
        expect((await snapshot(db, w.org.id)).balance).toBe(300);
      }
      await apply(w, "warning_closed");
      expect((await row()).status).toBe("warning_closed");
      expect((await row()).closedAt).not.toBeNull();
      const s = await snapshot(db, w.org.id);
      expect(s.balance).toBe(300);
      expect(s.entries.map((e) => e.kind)).toEqual(["purchase"]);
    } finally {
      await w.receiver.close();
    }
  });

  it("a prevented dispute closes the row and reverses nothing", async () => {
    const w = await paidWorld();
    try {
      await apply(w, "prevented");
      expect((await row()).closedAt).not.toBeNull();
      expect((await snapshot(db, w.org.id)).entries.map((e) => e.kind)).toEqual(["purchase"]);
    } finally {
      await w.receiver.close();
    }
  });

  it("an inquiry escalated to a chargeback reverses the disputed share once; lost keeps it", async () => {
    const w = await paidWorld();
    try {
      await apply(w, "warning_needs_response");
      expect((await snapshot(db, w.org.id)).balance).toBe(300);
      await apply(w, "needs_response");
      await apply(w, "under_review");
      expect((await row()).closedAt).toBeNull();
      await apply(w, "lost");
      const s = await snapshot(db, w.org.id);
      expect(s.balance).toBe(0);
      expect(s.entries.filter((e) => e.kind === "refund_reversal").map((e) => [e.amount, e.idempotencyKey])).toEqual([[-300, "dispute:dp_inquiry_1"]]);
      expect((await row()).closedAt).not.toBeNull();
    } finally {
      await w.receiver.close();
    }
  });

  it("through the emulator: an inquiry reverses nothing, escalated it reverses once, won restores; another closes as warning_closed", async () => {
    const w = await paidWorld();
    try {
      const dp = await openDispute(w.chargeId, { inquiry: true });
      await drainDeliveries();
      expect((await snapshot(db, w.org.id)).balance).toBe(300);
      expect(await row()).toMatchObject({ stripeDisputeId: dp.id, status: "warning_needs_response", closedAt: null });

      await escalateDispute(dp.id); // charge.dispute.updated + charge.dispute.funds_withdrawn
      await drainDeliveries();
      let s = await snapshot(db, w.org.id);
      expect(s.balance).toBe(0);
      expect(s.entries.filter((e) => e.kind === "refund_reversal").map((e) => [e.amount, e.idempotencyKey])).toEqual([[-300, `dispute:${dp.id}`]]);
      expect((await row()).status).toBe("needs_response");

      await closeDispute(dp.id, "won");
      await drainDeliveries();
      s = await snapshot(db, w.org.id);
      expect(s.balance).toBe(300);
      expect((await row()).closedAt).not.toBeNull();
    } finally {
      await w.receiver.close();
    }

    const v = await paidWorld();
    try {
      const dp = await openDispute(v.chargeId, { inquiry: true });
      await drainDeliveries();
      await closeDispute(dp.id, "warning_closed");
      await drainDeliveries();
      const s = await snapshot(db, v.org.id);
      expect(s.balance).toBe(300);
      expect(s.entries.map((e) => e.kind)).toEqual(["purchase"]);
      const [closed] = await db.select().from(disputes).where(eq(disputes.stripeDisputeId, dp.id));
      expect(closed).toMatchObject({ status: "warning_closed" });
      expect(closed!.closedAt).not.toBeNull();
    } finally {
      await v.receiver.close();
    }
  });
});
