// The staff console's services and actions, asserted on the database: only staff reach them
// (everyone else: not_found, nothing written), adjustments are new ledger entries with a reason
// and an actor and never overdraw, coupons are created and retired with audit rows, a replay of a
// processed event changes nothing, and a re-sync after a webhook outage grants every missing
// credit exactly once.
import { describe, expect, it } from "vitest";
import { eq, sql } from "drizzle-orm";
import { auditLog, coupons, creditEntries, meterBatches, resyncRuns, stripeEvents } from "@/db/schema";
import { meterBatchesNeedingAttention } from "@/lib/staff/queries";
import { runOrgAction } from "@/lib/actions/org-action";
import { runStaffAction } from "@/lib/actions/staff-action";
import { adjustCreditsDef, createCouponDef, deactivateCouponDef, replayEventDef, resyncEventsDef } from "@/lib/staff/actions";
import { startTopUpDef } from "@/lib/topups/actions";
import { stripe } from "@/lib/stripe/client";
import { receiveStripeWebhook } from "@/lib/webhooks/receive";
import { handledEventTypes, listEventLog } from "@/lib/webhooks/event-log";
import { listAudit } from "@/lib/audit/audit";
import { runQueuedJobs } from "@/lib/jobs/workers";
import type { ResyncReport } from "@/lib/webhooks/replay";
import { latestResyncRun } from "@/lib/webhooks/resync";
import { useTestDatabase } from "../support/context";
import { clearFaults, drainDeliveries, injectFault, startWebhookReceiver } from "../support/emulator";
import { makeOrg, makePack, makePausedCampaign, makeUser, snapshot } from "../support/fixtures";

const { db } = useTestDatabase();

async function world() {
  const org = await makeOrg(db);
  const member = await makeUser(db, { orgId: org.id, role: "member" });
  const admin = await makeUser(db, { orgId: org.id, role: "admin" });
  const staff = await makeUser(db, { isStaff: true });
  return { org, member, admin, staff };
}

const counts = async () => {
  const [r] = await db.execute<{ e: number; a: number; c: number }>(
    sql`select (select count(*) from credit_entries)::int as e, (select count(*) from audit_log)::int as a, (select count(*) from coupons)::int as c`,
  );
  return r;
};

/** Pays a top-up at Stripe (emulator) without our webhook seeing it. Returns the purchase id. */
async function paidAtStripe(orgSlug: string, admin: Awaited<ReturnType<typeof makeUser>>, packId: string) {
  const started = await runOrgAction(startTopUpDef, admin, { orgSlug, packId, requestId: crypto.randomUUID() }, db);
  if (!started.ok) throw new Error(started.error);
  const [p] = await db.execute<{ pi: string }>(sql`select stripe_payment_intent_id as pi from purchases where id = ${started.data.purchaseId}`);
  await stripe().paymentIntents.confirm(p!.pi, { payment_method: "pm_card_visa" });
  return started.data.purchaseId;
}

describe("staff console: access", () => {
  it("every staff action answers not_found to anonymous, members, admins and other organisations, and writes nothing", async () => {
    const w = await world();
    const c = await db.insert(coupons).values({ code: "KEEPME", percentOff: 10 }).returning();
    const inputs = [
      [adjustCreditsDef, { orgSlug: w.org.slug, kind: "bonus", amount: 100, reason: "goodwill", requestId: crypto.randomUUID() }],
      [createCouponDef, { code: "NEWCODE", discountType: "percent", percentOff: "10" }],
      [deactivateCouponDef, { couponId: c[0]!.id }],
      [replayEventDef, { eventId: "evt_123" }],
      [resyncEventsDef, { since: new Date(Date.now() - 3600_000).toISOString() }],
    ] as const;
    const before = await counts();
    for (const user of [null, w.member, w.admin, await makeUser(db, { orgId: (await makeOrg(db)).id, role: "admin" })]) {
      for (const [def, input] of inputs) {
        // Bad input from a non-staff caller is not_found too: the schema is not revealed.
        expect(await runStaffAction(def as never, user, input, db)).toMatchObject({ ok: false, code: "not_found" });
        expect(await runStaffAction(def as never, user, { junk: "<script>" }, db)).toMatchObject({ ok: false, code: "not_found" });
      }
    }
    expect(await counts()).toEqual(before);
    const [still] = await db.select().from(coupons).where(eq(coupons.id, c[0]!.id));
    expect(still!.active).toBe(true);
  });
});

describe("staff console: adjustments", () => {
  it("a bonus is a new entry with reason and actor, audited, once per request id; it resumes paused campaigns", async () => {
    const w = await world();
    await makePausedCampaign(db, w.org.id, 100);
    const requestId = crypto.randomUUID();
    const input = { orgSlug: w.org.slug, kind: "bonus", amount: "250", reason: "Launch goodwill", requestId };
    const r1 = await runStaffAction(adjustCreditsDef, w.staff, input, db);
    const r2 = await runStaffAction(adjustCreditsDef, w.staff, input, db);
    expect(r1).toMatchObject({ ok: true, data: { balanceAfter: 250, created: true } });
    expect(r2).toMatchObject({ ok: true, data: { created: false } });
    const s = await snapshot(db, w.org.id);
    expect(s.entries).toHaveLength(1);
    expect(s.entries[0]).toMatchObject({ kind: "bonus", amount: 250, actorUserId: w.staff.id, description: "Bonus: Launch goodwill" });
    expect(s.balance).toBe(250);
    expect(s.campaigns[0]!.status).toBe("active");
    const audit = await db.select().from(auditLog);
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ action: "credits.bonus", actorUserId: w.staff.id, orgId: w.org.id, targetType: "credit_entry" });
    expect(audit[0]!.details).toMatchObject({ amount: 250, reason: "Launch goodwill" });
  });

  it("the same request id with other values (a retry after an unanswered submit, edited) is refused, saying what was recorded; nothing more is written", async () => {
    const w = await world();
    const requestId = crypto.randomUUID();
    const first = await runStaffAction(adjustCreditsDef, w.staff, { orgSlug: w.org.slug, kind: "bonus", amount: "100", reason: "goodwill", requestId }, db);
    expect(first).toMatchObject({ ok: true, data: { created: true } });
    for (const other of [
      { kind: "bonus", amount: "150", reason: "goodwill" },
      { kind: "bonus", amount: "100", reason: "another reason" },
      { kind: "correction", amount: "100", reason: "goodwill" },
    ]) {
      const again = await runStaffAction(adjustCreditsDef, w.staff, { orgSlug: w.org.slug, ...other, requestId }, db);
      expect(again, JSON.stringify(other)).toMatchObject({ ok: false, code: "conflict" });
      expect(!again.ok && again.error).toMatch(/already recorded.*100 credits/i);
    }
    const s = await snapshot(db, w.org.id);
    expect(s.entries.map((e) => [e.kind, e.amount])).toEqual([["bonus", 100]]);
    expect(s.balance).toBe(100);
    expect(await db.select().from(auditLog)).toHaveLength(1);
  });

  it("one request id for two organisations at once: one is recorded, the other refused, with one entry and one audit row", async () => {
    // Several rounds: the two only overlap (both past the look-up before either commits) some of the time.
    const w = await world();
    for (let round = 1; round <= 6; round++) {
      const [a, b] = [await makeOrg(db), await makeOrg(db)];
      const requestId = crypto.randomUUID();
      const results = await Promise.all(
        [a, b].map((org) => runStaffAction(adjustCreditsDef, w.staff, { orgSlug: org.slug, kind: "bonus", amount: "100", reason: "goodwill", requestId }, db)),
      );
      expect(results.filter((r) => r.ok), `round ${round}`).toHaveLength(1);
      expect(results.filter((r) => !r.ok)).toEqual([expect.objectContaining({ ok: false, code: "conflict", error: "This request was already used for another organisation." })]);
      const balances = [(await snapshot(db, a.id)).balance, (await snapshot(db, b.id)).balance].sort();
      expect(balances).toEqual([0, 100]);
      expect(await db.select().from(auditLog), `round ${round}`).toHaveLength(round);
    }
  });

  it("a negative correction may not overdraw; within the balance it is a new negative entry", async () => {
    const w = await world();
    await runStaffAction(adjustCreditsDef, w.staff, { orgSlug: w.org.slug, kind: "bonus", amount: 100, reason: "start", requestId: crypto.randomUUID() }, db);
    const over = await runStaffAction(adjustCreditsDef, w.staff, { orgSlug: w.org.slug, kind: "correction", amount: -101, reason: "too much", requestId: crypto.randomUUID() }, db);
    expect(over).toMatchObject({ ok: false, code: "conflict" });
    expect((await snapshot(db, w.org.id)).entries).toHaveLength(1);
    const ok = await runStaffAction(adjustCreditsDef, w.staff, { orgSlug: w.org.slug, kind: "correction", amount: -100, reason: "double grant", requestId: crypto.randomUUID() }, db);
    expect(ok).toMatchObject({ ok: true, data: { balanceAfter: 0 } });
    const s = await snapshot(db, w.org.id);
    expect(s.entries.map((e) => [e.kind, e.amount])).toEqual([["bonus", 100], ["adjustment", -100]]);
    expect(await db.select().from(auditLog)).toHaveLength(2);
  });

  it("bad input is refused with a clear code and nothing is written", async () => {
    const w = await world();
    const base = { orgSlug: w.org.slug, kind: "bonus", amount: 10, reason: "fine reason", requestId: crypto.randomUUID() };
    const before = await counts();
    for (const bad of [
      { amount: 0 },
      { amount: 1.5 },
      { amount: "1e3" },
      { amount: "abc" },
      { amount: 99_999_999_999 },
      { amount: -5 }, // a negative bonus
      { reason: "" },
      { reason: "  " },
      { kind: "purchase" },
      { orgSlug: "no-such-org" },
      { orgSlug: "'; drop table credit_entries; --" },
      { requestId: "not-a-uuid" },
    ]) {
      const r = await runStaffAction(adjustCreditsDef, w.staff, { ...base, ...bad }, db);
      expect(r.ok, JSON.stringify(bad)).toBe(false);
      if (!r.ok) expect(["invalid_input", "not_found"]).toContain(r.code);
    }
    expect(await counts()).toEqual(before);
  });
});

describe("staff console: coupons", () => {
  it("creates percent and amount coupons with limits, refuses duplicates and bad values, deactivates; all audited", async () => {
    const w = await world();
    const pct = await runStaffAction(createCouponDef, w.staff, { code: "spring25", description: "Spring", discountType: "percent", percentOff: "25", maxRedemptions: "100", expiresAt: new Date(Date.now() + 86400_000).toISOString(), firstPurchaseOnly: "on", oncePerOrg: "on" }, db);
    expect(pct).toMatchObject({ ok: true, data: { code: "SPRING25" } });
    const amt = await runStaffAction(createCouponDef, w.staff, { code: "TENOFF", discountType: "amount", amountOff: "1000", currency: "USD" }, db);
    expect(amt.ok).toBe(true);
    const rows = await db.select().from(coupons).orderBy(coupons.code);
    expect(rows.map((c) => [c.code, c.percentOff, c.amountOff, c.currency, c.maxRedemptions, c.firstPurchaseOnly, c.oncePerOrg])).toEqual([
      ["SPRING25", 25, null, null, 100, true, true],
      ["TENOFF", null, 1000, "usd", null, false, false],
    ]);
    const before = await counts();
    for (const bad of [
      { code: "SPRING25", discountType: "percent", percentOff: "10" }, // duplicate
      { code: "X", discountType: "percent", percentOff: "10" },
      { code: "OK1", discountType: "percent", percentOff: "0" },
      { code: "OK2", discountType: "percent", percentOff: "101" },
      { code: "OK3", discountType: "percent", percentOff: "12.5" },
      { code: "OK4", discountType: "amount", amountOff: "500" }, // no currency
      { code: "OK5", discountType: "amount", amountOff: "-500", currency: "usd" },
      { code: "OK6", discountType: "amount", amountOff: "500", currency: "xyz" },
      { code: "OK7", discountType: "percent", percentOff: "10", expiresAt: "2001-01-01" },
      { code: "OK8", discountType: "percent", percentOff: "10", maxRedemptions: "0" },
      { code: "<b>x</b>", discountType: "percent", percentOff: "10" },
    ]) {
      const r = await runStaffAction(createCouponDef, w.staff, bad, db);
      expect(r.ok, JSON.stringify(bad)).toBe(false);
      if (!r.ok) expect(["invalid_input", "conflict"]).toContain(r.code);
    }
    expect(await counts()).toEqual(before);
    const id = rows[0]!.id;
    expect(await runStaffAction(deactivateCouponDef, w.staff, { couponId: id }, db)).toMatchObject({ ok: true, data: { active: false } });
    expect(await runStaffAction(deactivateCouponDef, w.staff, { couponId: crypto.randomUUID() }, db)).toMatchObject({ ok: false, code: "not_found" });
    const [off] = await db.select().from(coupons).where(eq(coupons.id, id));
    expect(off!.active).toBe(false);
    const audit = await listAudit(db);
    expect(audit.rows.map((r) => r.entry.action)).toEqual(["coupon.deactivate", "coupon.create", "coupon.create"]);
    expect(audit.rows.every((r) => r.entry.actorUserId === w.staff.id)).toBe(true);
  });
});

/** Runs the queued re-sync job (as a worker would) and returns the report it stored. */
async function runResync(): Promise<ResyncReport> {
  const jobs = await runQueuedJobs(db, { names: ["ops.resync-events"] });
  expect(jobs).toMatchObject([{ ok: true }]);
  const run = await latestResyncRun(db);
  expect(run).toMatchObject({ attempts: 1, error: null });
  expect(run!.finishedAt).not.toBeNull();
  return run!.report as ResyncReport;
}

describe("staff console: event log, replay and re-sync", () => {
  it("webhook endpoint down while payments succeed → re-sync grants every missing credit exactly once; replay of a processed event changes nothing", async () => {
    const w = await world();
    const pack = await makePack(db, { credits: 300, amount: 2900 });
    // The endpoint is down: every delivery gets a 503, nothing reaches our handler.
    let up = false;
    const receiver = await startWebhookReceiver(async (body, sig) => (up ? receiveStripeWebhook(db, body, sig) : { status: 503, body: { error: "down" } }));
    try {
      const since = new Date(Date.now() - 60_000);
      const purchaseIds = [];
      for (let i = 0; i < 3; i++) purchaseIds.push(await paidAtStripe(w.org.slug, w.admin, pack.id));
      let s = await snapshot(db, w.org.id);
      expect(s.balance).toBe(0);
      expect(s.entries).toHaveLength(0);

      // The action only queues the job (a large backlog never makes the request slow); asking
      // again for the same window while it waits queues nothing more.
      const r = await runStaffAction(resyncEventsDef, w.staff, { since: since.toISOString() }, db);
      if (!r.ok) throw new Error(r.error);
      expect(r.data).toMatchObject({ queued: true });
      expect((await snapshot(db, w.org.id)).balance).toBe(0);
      expect(await latestResyncRun(db)).toMatchObject({ id: r.data.runId, actorUserId: w.staff.id, startedAt: null, finishedAt: null, report: null });
      const dup = await runStaffAction(resyncEventsDef, w.staff, { since: since.toISOString() }, db);
      expect(dup).toMatchObject({ ok: true, data: { queued: false, runId: r.data.runId } });
      const report = await runResync();
      expect(report.processed).toBeGreaterThanOrEqual(3);
      expect(report.failed).toEqual([]);
      expect(await db.select().from(resyncRuns)).toHaveLength(1);
      s = await snapshot(db, w.org.id);
      expect(s.balance).toBe(900);
      expect(s.entries.map((e) => e.idempotencyKey).sort()).toEqual(purchaseIds.map((id) => `purchase:${id}`).sort());
      expect(s.purchases.every((p) => p.status === "succeeded")).toBe(true);

      // Again: nothing new. Then the endpoint comes back and Stripe's retries arrive: duplicates.
      const again = await runStaffAction(resyncEventsDef, w.staff, { since: since.toISOString() }, db);
      expect(again).toMatchObject({ ok: true, data: { queued: true } });
      expect(await runResync()).toMatchObject({ processed: 0, ignored: 0 });
      expect((await listAudit(db, { action: "events.resync" })).rows.map((x) => x.entry.actorUserId)).toEqual([w.staff.id, w.staff.id]);
      up = true;
      await drainDeliveries(30_000);
      s = await snapshot(db, w.org.id);
      expect(s.balance).toBe(900);
      expect(s.entries).toHaveLength(3);

      // Replay of a processed succeeded event: duplicate, nothing changes, but it is audited.
      const [ev] = await db.select().from(stripeEvents).where(eq(stripeEvents.type, "payment_intent.succeeded")).limit(1);
      const beforeReplay = await db.select().from(creditEntries);
      const replay = await runStaffAction(replayEventDef, w.staff, { eventId: ev!.id }, db);
      expect(replay).toMatchObject({ ok: true, data: { result: "duplicate" } });
      expect(await db.select().from(creditEntries)).toEqual(beforeReplay);
      const audit = await listAudit(db, { action: "event.replay" });
      expect(audit.rows).toHaveLength(1);
      expect(audit.rows[0]!.entry).toMatchObject({ targetId: ev!.id, actorUserId: w.staff.id });
      expect(await runStaffAction(replayEventDef, w.staff, { eventId: "evt_unknown" }, db)).toMatchObject({ ok: false, code: "not_found" });

      // The log: filters by type, status and organisation.
      const succeeded = await listEventLog(db, { type: "payment_intent.succeeded", orgId: w.org.id });
      expect(succeeded).toHaveLength(3);
      expect(succeeded.every((e) => e.status === "processed" && e.org_slug === w.org.slug)).toBe(true);
      expect(await listEventLog(db, { status: "failed" })).toHaveLength(0);
      const ignored = await listEventLog(db, { status: "ignored" });
      expect(ignored.length).toBeGreaterThan(0);
      expect(ignored.every((e) => !handledEventTypes().includes(e.type))).toBe(true);
      expect(await listEventLog(db, { orgId: (await makeOrg(db)).id })).toHaveLength(0);
    } finally {
      await receiver.close();
    }
  });

  it("a re-sync job that cannot reach Stripe records the error on its run and is retried until it finishes", async () => {
    const w = await world();
    const pack = await makePack(db, { credits: 70, amount: 700 });
    const since = new Date(Date.now() - 60_000);
    const purchaseId = await paidAtStripe(w.org.slug, w.admin, pack.id); // no receiver: never delivered
    const r = await runStaffAction(resyncEventsDef, w.staff, { since: since.toISOString() }, db);
    if (!r.ok) throw new Error(r.error);
    await injectFault({ method: "GET", path: "/v1/events", status: 500, count: 100 });
    try {
      expect(await runQueuedJobs(db, { names: ["ops.resync-events"] })).toMatchObject([{ ok: false }]);
    } finally {
      await clearFaults();
    }
    let run = await latestResyncRun(db);
    expect(run).toMatchObject({ id: r.data.runId, attempts: 1, finishedAt: null, report: null });
    expect(run!.error).toMatch(/Injected fault/);
    expect((await snapshot(db, w.org.id)).balance).toBe(0);

    expect(await runQueuedJobs(db, { names: ["ops.resync-events"], includeDelayed: true })).toMatchObject([{ ok: true }]);
    run = await latestResyncRun(db);
    expect(run).toMatchObject({ attempts: 2, error: null });
    expect((run!.report as ResyncReport).failed).toEqual([]);
    const s = await snapshot(db, w.org.id);
    expect(s.entries.map((e) => e.idempotencyKey)).toEqual([`purchase:${purchaseId}`]);
    expect(s.balance).toBe(70);
  });

  it("replay re-runs a failed event through the same path and grants once", async () => {
    const w = await world();
    const pack = await makePack(db, { credits: 120, amount: 1200 });
    const purchaseId = await paidAtStripe(w.org.slug, w.admin, pack.id);
    const events = await stripe().events.list({ type: "payment_intent.succeeded", limit: 5 });
    const event = events.data[0]!;
    // A failed first attempt: the row exists with last_error and no processed_at.
    await db.insert(stripeEvents).values({ id: event.id, type: event.type, livemode: false, payload: event, attempts: 1, lastError: "database timeout", lastFailedAt: new Date() });
    expect((await listEventLog(db, { status: "failed" })).map((e) => e.id)).toEqual([event.id]);
    const r = await runStaffAction(replayEventDef, w.staff, { eventId: event.id }, db);
    expect(r).toMatchObject({ ok: true, data: { result: "processed" } });
    const s = await snapshot(db, w.org.id);
    expect(s.entries.map((e) => e.idempotencyKey)).toEqual([`purchase:${purchaseId}`]);
    expect(s.balance).toBe(120);
    const [row] = await db.select().from(stripeEvents).where(eq(stripeEvents.id, event.id));
    expect(row!.processedAt).not.toBeNull();
    expect(row!.attempts).toBe(2);
    expect(await runStaffAction(replayEventDef, w.staff, { eventId: event.id }, db)).toMatchObject({ ok: true, data: { result: "duplicate" } });
    expect((await snapshot(db, w.org.id)).balance).toBe(120);
  });
});

describe("staff console: metered usage not reaching Stripe", () => {
  it("lists batches Stripe refused and batches unpushed past the delay; not fresh or pushed ones", async () => {
    const org = await makeOrg(db);
    const batch = (tag: string, minutesAgo: number, extra: Partial<typeof meterBatches.$inferInsert> = {}) => ({
      id: crypto.randomUUID(),
      identifier: `usage-batch:${tag}`,
      orgId: org.id,
      stripeCustomerId: "cus_test",
      credits: 40,
      eventAt: new Date(),
      createdAt: new Date(Date.now() - minutesAgo * 60_000),
      ...extra,
    });
    await db.insert(meterBatches).values([
      batch("refused", 1, { failedAt: new Date(), lastError: "timestamp too old", attempts: 1 }),
      batch("stuck", 30, { attempts: 4, lastError: "api_error" }),
      batch("fresh", 1),
      batch("pushed", 60, { pushedAt: new Date(), attempts: 1 }),
    ]);
    const listed = await meterBatchesNeedingAttention(db, 10);
    expect(listed.map((b) => b.identifier).sort()).toEqual(["usage-batch:refused", "usage-batch:stuck"]);
    expect(listed.find((b) => b.identifier === "usage-batch:refused")).toMatchObject({ orgSlug: org.slug, credits: 40, lastError: "timestamp too old" });
  });
});
