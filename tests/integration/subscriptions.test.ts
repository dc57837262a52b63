// Subscriptions end to end through the real SDK, the emulator's test clocks and signed webhooks:
// subscribe and pay the first invoice, renewals granting once per invoice, trials, annual plans
// granted monthly by jobs, upgrades with proration credits (matching the preview), downgrades at
// period end, cancel at period end and undo, deletion, dunning with a grace period, duplicate
// subscribes, and subscription events out of order. Every test asserts on the database.
import { beforeEach, describe, expect, it } from "vitest";
import { and, eq, sql } from "drizzle-orm";
import type Stripe from "stripe";
import { campaigns, creditEntries, subscriptions } from "@/db/schema";
import { runOrgAction } from "@/lib/actions/org-action";
import { runQueuedJobs } from "@/lib/jobs/workers";
import { planByKey } from "@/lib/plans/catalogue";
import { stripe } from "@/lib/stripe/client";
import {
  cancelScheduledChangeDef,
  changePlanDef,
  previewPlanChangeDef,
  setPlanCancellationDef,
  startSubscriptionDef,
  subscriptionStatusDef,
} from "@/lib/subscriptions/actions";
import { applyGraceEnd } from "@/lib/subscriptions/dunning";
import { applyPaidInvoice } from "@/lib/subscriptions/grants";
import { debitCredits } from "@/lib/ledger/ledger";
import { syncSubscription } from "@/lib/subscriptions/sync";
import { planCardsFor } from "@/lib/subscriptions/queries";
import { trialUsed } from "@/lib/subscriptions/trial";
import { processStripeEvent } from "@/lib/webhooks/process";
import { useTestDatabase } from "../support/context";
import { drainDeliveries, resendEvent, setChaos, useWebhookReceiver } from "../support/emulator";
import { makePausedCampaign, snapshot } from "../support/fixtures";
import { advanceTo, clockOrg, DAY, latestInvoice, subscribePaid, syncPlans } from "../support/subscriptions";

const { db } = useTestDatabase();
useWebhookReceiver(db);
beforeEach(async () => {
  await syncPlans(db);
});

const growth = planByKey("growth")!;
const row = async (orgId: string) => (await db.select().from(subscriptions).where(eq(subscriptions.orgId, orgId)).orderBy(subscriptions.createdAt)).at(-1)!;
const subKinds = <E extends { kind: string }>(entries: E[]) => entries.filter((e) => e.kind !== "usage");

describe("catalogue sync", () => {
  it("a second run changes nothing, at Stripe or locally", async () => {
    const again = await syncPlans(db);
    expect(again.created).toEqual([]);
    expect(again.updated).toEqual([]);
    const prices = await stripe().prices.list({ lookup_keys: [growth.monthly.lookupKey, growth.annual.lookupKey] });
    expect(prices.data.map((p) => p.unit_amount).sort()).toEqual([growth.monthly.amount, growth.annual.amount].sort());
  });
});

describe("subscribe and renew", () => {
  it("the first invoice paid on the page grants the period once; a renewal grants the next; replays change nothing", async () => {
    const w = await clockOrg(db);
    const paused = await makePausedCampaign(db, w.org.id, 100);
    const started = await subscribePaid(db, w, "growth", "month");
    expect(started.clientSecret).toMatch(/^pi_.+_secret_/);
    expect(started.amountDue).toBe(growth.monthly.amount);

    let r = await row(w.org.id);
    expect(r).toMatchObject({ status: "active", planKey: "growth", interval: "month", cancelAtPeriodEnd: false });
    let s = await snapshot(db, w.org.id);
    const first = await latestInvoice(r.stripeSubscriptionId!);
    expect(subKinds(s.entries)).toEqual([expect.objectContaining({ kind: "subscription_grant", amount: 4000, idempotencyKey: `invoice:${first.id}` })]);
    expect(s.campaigns.find((c) => c.id === paused.id)?.status).toBe("active");

    // The settling page verifying again, and the webhook delivered again: nothing more.
    await runOrgAction(subscriptionStatusDef, w.admin, { orgSlug: w.org.slug, subscriptionId: r.id }, db);
    const paidEvent = (await stripe().events.list({ type: "invoice.paid", limit: 1 })).data[0]!;
    await resendEvent(paidEvent.id);
    await drainDeliveries();
    expect((await snapshot(db, w.org.id)).balance).toBe(4000);

    // A month later (+1 h: renewals are finalized and charged an hour after the period starts).
    await advanceTo(w.clock.id, r.currentPeriodEnd!.getTime() / 1000 + 2 * 3600);
    s = await snapshot(db, w.org.id);
    const renewal = await latestInvoice(r.stripeSubscriptionId!);
    expect(renewal.id).not.toBe(first.id);
    expect(renewal.billing_reason).toBe("subscription_cycle");
    expect(subKinds(s.entries).map((e) => [e.amount, e.idempotencyKey])).toEqual([
      [4000, `invoice:${first.id}`],
      [4000, `invoice:${renewal.id}`],
    ]);
    r = await row(w.org.id);
    expect(r.currentPeriodStart!.getTime()).toBeGreaterThan(w.now * 1000);
  });

  it("an invoice applied again (checkout.session.completed after invoice.paid) resumes only what the balance covers now", async () => {
    const w = await clockOrg(db);
    // Each costs 3,000 a delivery: Growth's 4,000 covers one of them, paused first.
    const a = await makePausedCampaign(db, w.org.id, 3000, "a");
    const b = await makePausedCampaign(db, w.org.id, 3000, "b");
    await db.update(campaigns).set({ pausedAt: new Date(Date.UTC(2026, 10, 1, 10, 0, 0)) }).where(eq(campaigns.id, a.id));
    await db.update(campaigns).set({ pausedAt: new Date(Date.UTC(2026, 10, 1, 10, 0, 1)) }).where(eq(campaigns.id, b.id));
    await subscribePaid(db, w, "growth", "month");
    let s = await snapshot(db, w.org.id);
    expect(s.balance).toBe(4000);
    expect(s.campaigns.map((c) => `${c.name}:${c.status}`).sort()).toEqual(["a:active", "b:paused"]);

    // A delivers once: 1,000 left, which does not cover b.
    await db.transaction((tx) => debitCredits(tx, { orgId: w.org.id, credits: 3000, idempotencyKey: "delivery:test-a-1", description: "delivery" }));
    const invoice = await latestInvoice((await row(w.org.id)).stripeSubscriptionId!);
    const again = await db.transaction((tx) => applyPaidInvoice(tx, invoice));
    expect(again.granted).toBe(0);
    s = await snapshot(db, w.org.id);
    expect(s.balance).toBe(1000);
    expect(subKinds(s.entries).filter((e) => e.kind === "subscription_grant")).toHaveLength(1);
    expect(s.campaigns.map((c) => `${c.name}:${c.status}`).sort()).toEqual(["a:active", "b:paused"]);
  });

  it("double clicks, two tabs and two admins starting plans at once end with exactly one subscription", async () => {
    const w = await clockOrg(db);
    const { makeUser } = await import("../support/fixtures");
    const admin2 = await makeUser(db, { orgId: w.org.id, role: "admin" });
    const sameRequest = crypto.randomUUID();
    const calls = [
      ...Array.from({ length: 3 }, () => ({ user: w.admin, requestId: sameRequest })),
      ...Array.from({ length: 3 }, () => ({ user: w.admin, requestId: crypto.randomUUID() })),
      ...Array.from({ length: 3 }, () => ({ user: admin2, requestId: crypto.randomUUID() })),
    ];
    const results = await Promise.all(
      calls.map((c) => runOrgAction(startSubscriptionDef, c.user, { orgSlug: w.org.slug, planKey: "growth", interval: "month", requestId: c.requestId }, db)),
    );
    const ok = results.filter((r) => r.ok);
    expect(ok.length).toBeGreaterThan(0);
    for (const r of results) if (!r.ok) expect(r.code).toBe("conflict");
    const ids = new Set(ok.map((r) => (r.ok ? r.data.subscriptionId : "")));
    expect(ids.size).toBe(1);
    const rows = await db.select().from(subscriptions).where(eq(subscriptions.orgId, w.org.id));
    expect(rows).toHaveLength(1);
    const atStripe = await stripe().subscriptions.list({ customer: w.customer.id, status: "all" });
    expect(atStripe.data).toHaveLength(1);

    // The database refuses a second live row even if the service were bypassed.
    await expect(
      db.insert(subscriptions).values({ orgId: w.org.id, requestId: crypto.randomUUID(), stripeCustomerId: w.customer.id, planKey: "scale", interval: "month", status: "active" }),
    ).rejects.toThrow();
  });

  it("an unpaid start for another plan is cancelled at Stripe and replaced", async () => {
    const w = await clockOrg(db);
    const a = await runOrgAction(startSubscriptionDef, w.admin, { orgSlug: w.org.slug, planKey: "growth", interval: "month", requestId: crypto.randomUUID() }, db);
    const b = await runOrgAction(startSubscriptionDef, w.admin, { orgSlug: w.org.slug, planKey: "scale", interval: "month", requestId: crypto.randomUUID() }, db);
    expect(a.ok && b.ok).toBe(true);
    const rows = await db.select().from(subscriptions).where(eq(subscriptions.orgId, w.org.id)).orderBy(subscriptions.createdAt);
    expect(rows.map((r) => [r.planKey, r.status])).toEqual([
      ["growth", expect.stringMatching(/^(canceled|incomplete_expired)$/)],
      ["scale", "incomplete"],
    ]);
    const atStripe = await stripe().subscriptions.list({ customer: w.customer.id, status: "all" });
    expect(atStripe.data.filter((s) => !["canceled", "incomplete_expired"].includes(s.status))).toHaveLength(1);
  });
});

describe("trials", () => {
  it("a trial grants the plan's trial credits; an upgrade during it keeps the trial end; the first paid period grants the plan", async () => {
    const w = await clockOrg(db);
    const started = await subscribePaid(db, w, "starter", "month");
    expect(started).toMatchObject({ status: "trialing", clientSecret: null });
    let r = await row(w.org.id);
    expect(r.status).toBe("trialing");
    const trialEnd = r.trialEnd!;
    let s = await snapshot(db, w.org.id);
    expect(subKinds(s.entries)).toEqual([expect.objectContaining({ kind: "trial_grant", amount: 200 })]);

    const preview = await runOrgAction(previewPlanChangeDef, w.admin, { orgSlug: w.org.slug, planKey: "growth", interval: "month" }, db);
    expect(preview).toMatchObject({ ok: true, data: { kind: "now", amountDueNow: 0, keepsTrialUntil: trialEnd.toISOString() } });
    const changed = await runOrgAction(changePlanDef, w.admin, { orgSlug: w.org.slug, planKey: "growth", interval: "month", requestId: crypto.randomUUID() }, db);
    expect(changed).toMatchObject({ ok: true, data: { applied: true } });
    await drainDeliveries();
    r = await row(w.org.id);
    expect(r).toMatchObject({ status: "trialing", planKey: "growth" });
    expect(r.trialEnd).toEqual(trialEnd);

    // A card for after the trial, then past its end.
    const pm = await stripe().paymentMethods.attach("pm_card_visa", { customer: w.customer.id });
    await stripe().subscriptions.update(r.stripeSubscriptionId!, { default_payment_method: pm.id });
    await advanceTo(w.clock.id, trialEnd.getTime() / 1000 + 2 * 3600);
    r = await row(w.org.id);
    expect(r.status).toBe("active");
    s = await snapshot(db, w.org.id);
    expect(subKinds(s.entries).map((e) => [e.kind, e.amount])).toEqual([
      ["trial_grant", 200],
      ["subscription_grant", 4000],
    ]);
  });
});

describe("a trial is once per organisation", () => {
  it("after a trial was cancelled, starting the plan again charges the first invoice and grants the period, not a second trial", async () => {
    const w = await clockOrg(db);
    const first = await subscribePaid(db, w, "starter", "month");
    expect(first).toMatchObject({ status: "trialing", clientSecret: null });
    expect(planCardsFor(await trialUsed(db, w.org.id)).find((p) => p.key === "starter")?.trialDays).toBe(0);
    await stripe().subscriptions.cancel((await row(w.org.id)).stripeSubscriptionId!);
    await drainDeliveries();
    expect((await row(w.org.id)).status).toBe("canceled");

    const again = await subscribePaid(db, w, "starter", "month");
    expect(again.clientSecret, "no second trial: the first invoice needs paying").toMatch(/^pi_.+_secret_/);
    expect(again.amountDue).toBe(planByKey("starter")!.monthly.amount);
    const r = await row(w.org.id);
    expect(r).toMatchObject({ status: "active", planKey: "starter", trialEnd: null });
    const s = await snapshot(db, w.org.id);
    expect(subKinds(s.entries).map((e) => [e.kind, e.amount])).toEqual([
      ["trial_grant", 200],
      ["subscription_grant", 1000],
    ]);
    expect(s.balance).toBe(1200);
  });

  it("an organisation that never had a trial is offered it; one whose plan start was only unpaid still is", async () => {
    const w = await clockOrg(db);
    expect(await trialUsed(db, w.org.id)).toBe(false);
    expect(planCardsFor(false).find((p) => p.key === "starter")?.trialDays).toBe(14);
    // An unpaid start of another plan (no trial in it) does not use the trial up.
    const started = await runOrgAction(startSubscriptionDef, w.admin, { orgSlug: w.org.slug, planKey: "growth", interval: "month", requestId: crypto.randomUUID() }, db);
    expect(started).toMatchObject({ ok: true, data: { status: "incomplete" } });
    expect(await trialUsed(db, w.org.id)).toBe(false);
    const trial = await subscribePaid(db, w, "starter", "month");
    expect(trial).toMatchObject({ status: "trialing", clientSecret: null });
  });
});

describe("annual plans", () => {
  it("grant a month now and each later month by a job, once", async () => {
    const w = await clockOrg(db);
    await subscribePaid(db, w, "growth", "year");
    const r = await row(w.org.id);
    expect(r).toMatchObject({ status: "active", interval: "year" });
    expect((await snapshot(db, w.org.id)).balance).toBe(4000);
    const runs = await runQueuedJobs(db, { includeDelayed: true, names: ["subscriptions.monthly-grant"] });
    expect(runs.filter((j) => j.ok)).toHaveLength(11);
    const s = await snapshot(db, w.org.id);
    expect(s.balance).toBe(12 * 4000);
    const invoice = await latestInvoice(r.stripeSubscriptionId!);
    expect(s.entries.map((e) => e.idempotencyKey).sort()).toEqual([`invoice:${invoice.id}`, ...Array.from({ length: 11 }, (_, i) => `invoice:${invoice.id}:month:${i + 1}`)].sort());
    // Running a month again grants nothing.
    const { runMonthlyGrant } = await import("@/lib/subscriptions/grants");
    expect(await runMonthlyGrant(db, { subscriptionId: r.id, invoiceId: invoice.id!, month: 3 })).toMatchObject({ outcome: "already" });
    expect((await snapshot(db, w.org.id)).balance).toBe(12 * 4000);
  });

  it("grant nothing more once the subscription has ended; the credits granted stay", async () => {
    const w = await clockOrg(db);
    await subscribePaid(db, w, "growth", "year");
    const r = await row(w.org.id);
    await stripe().subscriptions.cancel(r.stripeSubscriptionId!);
    await drainDeliveries();
    expect((await row(w.org.id)).status).toBe("canceled");
    const runs = await runQueuedJobs(db, { includeDelayed: true, names: ["subscriptions.monthly-grant"] });
    expect(runs).toHaveLength(11);
    expect(runs.every((j) => j.ok && (j.output as { outcome: string }).outcome === "skipped")).toBe(true);
    expect((await snapshot(db, w.org.id)).balance).toBe(4000);
  });
});

describe("plan changes", () => {
  it("an upgrade is previewed, charged now with proration, and credits the rest of the period as previewed", async () => {
    const w = await clockOrg(db);
    await subscribePaid(db, w, "growth", "month");
    let r = await row(w.org.id);
    await advanceTo(w.clock.id, w.now + 10 * DAY);
    const preview = await runOrgAction(previewPlanChangeDef, w.admin, { orgSlug: w.org.slug, planKey: "scale", interval: "month" }, db);
    if (!preview.ok) throw new Error(preview.error);
    expect(preview.data.kind).toBe("now");
    expect(preview.data.amountDueNow).toBeGreaterThan(0);
    expect(preview.data.amountDueNow).toBeLessThan(29_900 - 9_900);
    expect(preview.data.creditsNow).toBeGreaterThan(0);
    expect(preview.data.creditsNow).toBeLessThan(11_000);

    const changed = await runOrgAction(changePlanDef, w.admin, { orgSlug: w.org.slug, planKey: "scale", interval: "month", requestId: crypto.randomUUID() }, db);
    expect(changed).toMatchObject({ ok: true, data: { kind: "now", applied: true } });
    await drainDeliveries();
    r = await row(w.org.id);
    expect(r).toMatchObject({ planKey: "scale", status: "active" });
    const invoice = await latestInvoice(r.stripeSubscriptionId!);
    expect(invoice).toMatchObject({ billing_reason: "subscription_update", status: "paid", amount_paid: preview.data.amountDueNow });
    const s = await snapshot(db, w.org.id);
    expect(subKinds(s.entries).map((e) => [e.amount, e.idempotencyKey])).toEqual([
      [4000, expect.any(String)],
      [preview.data.creditsNow, `invoice:${invoice.id}`],
    ]);
  });

  it("a downgrade is scheduled for the period end, can be undone, and applies at the renewal", async () => {
    const w = await clockOrg(db);
    await subscribePaid(db, w, "growth", "month");
    const down = await runOrgAction(changePlanDef, w.admin, { orgSlug: w.org.slug, planKey: "starter", interval: "month", requestId: crypto.randomUUID() }, db);
    expect(down).toMatchObject({ ok: true, data: { kind: "at_period_end", applied: false } });
    await drainDeliveries();
    let r = await row(w.org.id);
    expect(r).toMatchObject({ planKey: "growth", scheduledPlanKey: "starter", scheduledInterval: "month" });
    expect(r.scheduledAt).toEqual(r.currentPeriodEnd);

    const undo = await runOrgAction(cancelScheduledChangeDef, w.admin, { orgSlug: w.org.slug, requestId: crypto.randomUUID() }, db);
    expect(undo.ok).toBe(true);
    r = await row(w.org.id);
    expect(r.scheduledPlanKey).toBeNull();

    await runOrgAction(changePlanDef, w.admin, { orgSlug: w.org.slug, planKey: "starter", interval: "month", requestId: crypto.randomUUID() }, db);
    await advanceTo(w.clock.id, r.currentPeriodEnd!.getTime() / 1000 + 2 * 3600);
    r = await row(w.org.id);
    expect(r).toMatchObject({ planKey: "starter", scheduledPlanKey: null, status: "active" });
    const s = await snapshot(db, w.org.id);
    expect(subKinds(s.entries).map((e) => e.amount)).toEqual([4000, 1000]);
  });
});

describe("interval switch", () => {
  it("monthly → annual starts the annual period now and grants its first month; annual → monthly waits for the year's end", async () => {
    const w = await clockOrg(db);
    await subscribePaid(db, w, "growth", "month");
    await advanceTo(w.clock.id, w.now + 5 * DAY);
    const preview = await runOrgAction(previewPlanChangeDef, w.admin, { orgSlug: w.org.slug, planKey: "growth", interval: "year" }, db);
    if (!preview.ok) throw new Error(preview.error);
    expect(preview.data).toMatchObject({ kind: "now", creditsNow: 4000 });
    expect(preview.data.amountDueNow).toBeLessThan(growth.annual.amount);
    const up = await runOrgAction(changePlanDef, w.admin, { orgSlug: w.org.slug, planKey: "growth", interval: "year", requestId: crypto.randomUUID() }, db);
    expect(up).toMatchObject({ ok: true, data: { applied: true } });
    await drainDeliveries();
    let r = await row(w.org.id);
    expect(r).toMatchObject({ planKey: "growth", interval: "year", status: "active" });
    expect(r.currentPeriodStart!.getTime()).toBe((w.now + 5 * DAY) * 1000);
    let s = await snapshot(db, w.org.id);
    expect(subKinds(s.entries).map((e) => e.amount)).toEqual([4000, 4000]);

    const down = await runOrgAction(changePlanDef, w.admin, { orgSlug: w.org.slug, planKey: "growth", interval: "month", requestId: crypto.randomUUID() }, db);
    expect(down).toMatchObject({ ok: true, data: { kind: "at_period_end" } });
    r = await row(w.org.id);
    expect(r).toMatchObject({ interval: "year", scheduledInterval: "month" });
    s = await snapshot(db, w.org.id);
    expect(s.balance).toBe(8000);
  });
});

describe("cancellation", () => {
  it("cancel at period end and undo; cancelled again, the plan ends: no more grants, credits stay, a new plan can start", async () => {
    const w = await clockOrg(db);
    await subscribePaid(db, w, "growth", "month");
    const cancel = () => runOrgAction(setPlanCancellationDef, w.admin, { orgSlug: w.org.slug, choice: "cancel_at_period_end", requestId: crypto.randomUUID() }, db);
    expect(await cancel()).toMatchObject({ ok: true, data: { cancelAtPeriodEnd: true } });
    const undo = await runOrgAction(setPlanCancellationDef, w.admin, { orgSlug: w.org.slug, choice: "keep", requestId: crypto.randomUUID() }, db);
    expect(undo).toMatchObject({ ok: true, data: { cancelAtPeriodEnd: false } });
    expect((await row(w.org.id)).cancelAtPeriodEnd).toBe(false);

    await cancel();
    let r = await row(w.org.id);
    await advanceTo(w.clock.id, r.currentPeriodEnd!.getTime() / 1000 + 2 * 3600);
    r = await row(w.org.id);
    expect(r.status).toBe("canceled");
    expect(r.endedAt).not.toBeNull();
    const s = await snapshot(db, w.org.id);
    expect(s.balance).toBe(4000);
    expect(subKinds(s.entries)).toHaveLength(1);

    // The slot is free: a new plan starts.
    const again = await runOrgAction(startSubscriptionDef, w.admin, { orgSlug: w.org.slug, planKey: "scale", interval: "month", requestId: crypto.randomUUID() }, db);
    expect(again.ok).toBe(true);
  });
});

describe("dunning", () => {
  it("a failed renewal → past due with a grace period (campaigns run) → grace over: paused for billing (idempotent) → paid: resumed", async () => {
    const w = await clockOrg(db);
    await subscribePaid(db, w, "growth", "month");
    let r = await row(w.org.id);
    const [running] = await db.insert(campaigns).values({ orgId: w.org.id, name: "Running", status: "active", costPerDelivery: 50 }).returning();
    const failing = await stripe().paymentMethods.attach("pm_card_chargeCustomerFail", { customer: w.customer.id });
    await stripe().subscriptions.update(r.stripeSubscriptionId!, { default_payment_method: failing.id });

    await advanceTo(w.clock.id, r.currentPeriodEnd!.getTime() / 1000 + 2 * 3600);
    r = await row(w.org.id);
    expect(r.status).toBe("past_due");
    expect(r.graceEndsAt).not.toBeNull();
    expect(r.graceEndsAt!.getTime() - r.pastDueSince!.getTime()).toBe(7 * DAY * 1000);
    const [c1] = await db.select().from(campaigns).where(eq(campaigns.id, running!.id));
    expect(c1!.status).toBe("active");
    expect((await snapshot(db, w.org.id)).balance).toBe(4000);

    // The grace-end job was queued in the same transaction, for the grace end; run early, it changes nothing.
    const jobs = await db.execute<{ start_after: Date }>(sql`select start_after from pgboss.job where name = 'subscriptions.grace-end'`);
    expect(jobs).toHaveLength(1);
    expect(new Date(jobs[0]!.start_after).getTime()).toBe(r.graceEndsAt!.getTime());
    const early = await runQueuedJobs(db, { includeDelayed: true, names: ["subscriptions.grace-end"] });
    expect(early).toEqual([expect.objectContaining({ ok: true, output: expect.objectContaining({ outcome: "skipped", reason: "grace period not over" }) })]);
    expect(await applyGraceEnd(db, r.id, syncSubscription)).toMatchObject({ outcome: "skipped" });
    const after = new Date(r.graceEndsAt!.getTime() + 1000);
    const results = await Promise.all([applyGraceEnd(db, r.id, syncSubscription, after), applyGraceEnd(db, r.id, syncSubscription, after)]);
    expect(results.map((x) => x.outcome).sort()).toEqual(["paused", "paused"]);
    expect(results.reduce((n, x) => n + (x.outcome === "paused" ? x.campaigns : 0), 0)).toBe(1);
    const [c2] = await db.select().from(campaigns).where(eq(campaigns.id, running!.id));
    expect(c2).toMatchObject({ status: "paused", pauseReason: "billing" });

    // The card is fixed and the open invoice paid (what the portal does).
    const good = await stripe().paymentMethods.attach("pm_card_visa", { customer: w.customer.id });
    await stripe().subscriptions.update(r.stripeSubscriptionId!, { default_payment_method: good.id });
    const open = (await stripe().invoices.list({ subscription: r.stripeSubscriptionId!, status: "open" })).data[0]!;
    await stripe().invoices.pay(open.id!, { payment_method: good.id });
    await drainDeliveries();
    r = await row(w.org.id);
    expect(r).toMatchObject({ status: "active", graceEndsAt: null, pastDueSince: null });
    const [c3] = await db.select().from(campaigns).where(eq(campaigns.id, running!.id));
    expect(c3).toMatchObject({ status: "active", pauseReason: null });
    const s = await snapshot(db, w.org.id);
    expect(subKinds(s.entries).map((e) => [e.amount, e.idempotencyKey])).toEqual([
      [4000, expect.any(String)],
      [4000, `invoice:${open.id}`],
    ]);
  });
});

describe("ordering", () => {
  it("a whole lifecycle delivered reversed and duplicated ends as Stripe says: one grant per invoice, the mirror current", async () => {
    await setChaos({ duplicate: 2, reorder: true });
    const w = await clockOrg(db);
    await subscribePaid(db, w, "growth", "month");
    let r = await row(w.org.id);
    await advanceTo(w.clock.id, w.now + 10 * DAY);
    const up = await runOrgAction(changePlanDef, w.admin, { orgSlug: w.org.slug, planKey: "scale", interval: "month", requestId: crypto.randomUUID() }, db);
    expect(up.ok).toBe(true);
    await drainDeliveries();
    await advanceTo(w.clock.id, r.currentPeriodEnd!.getTime() / 1000 + 2 * 3600);
    await drainDeliveries();
    r = await row(w.org.id);
    const atStripe = await stripe().subscriptions.retrieve(r.stripeSubscriptionId!);
    expect(r).toMatchObject({ status: atStripe.status, planKey: "scale", stripePriceId: atStripe.items.data[0]!.price.id });
    expect(r.currentPeriodEnd!.getTime()).toBe(atStripe.items.data[0]!.current_period_end * 1000);
    const paid = (await stripe().invoices.list({ subscription: r.stripeSubscriptionId!, status: "paid" })).data;
    expect(paid).toHaveLength(3); // first period, the upgrade, the renewal
    const s = await snapshot(db, w.org.id);
    expect(s.entries.map((e) => e.idempotencyKey).sort()).toEqual(paid.map((i) => `invoice:${i.id}`).sort());
    expect(s.entries.find((e) => e.idempotencyKey === `invoice:${paid[0]!.id}`)?.amount).toBe(15000); // the renewal, on Scale
  });

  it("an older subscription event processed after a newer one never moves the mirror back", async () => {
    const w = await clockOrg(db);
    await subscribePaid(db, w, "growth", "month");
    const r = await row(w.org.id);
    expect(r.status).toBe("active");
    const created = (await stripe().events.list({ type: "customer.subscription.created", limit: 10 })).data.find(
      (e) => (e.data.object as Stripe.Subscription).id === r.stripeSubscriptionId,
    )!;
    expect((created.data.object as Stripe.Subscription).status).toBe("incomplete");
    // The same old content under a new event id (a late delivery of an older event).
    const stale = { ...created, id: `evt_stale_${Date.now()}`, type: "customer.subscription.updated" } as Stripe.Event;
    await processStripeEvent(db, stale);
    expect(await row(w.org.id)).toMatchObject({ status: "active", planKey: "growth" });

    // A newer change (cancel at period end), then an older update arrives: the newer state stays.
    await runOrgAction(setPlanCancellationDef, w.admin, { orgSlug: w.org.slug, choice: "cancel_at_period_end", requestId: crypto.randomUUID() }, db);
    await processStripeEvent(db, { ...stale, id: `evt_stale2_${Date.now()}` } as Stripe.Event);
    expect(await row(w.org.id)).toMatchObject({ status: "active", cancelAtPeriodEnd: true });
    const entries = await db.select().from(creditEntries).where(and(eq(creditEntries.orgId, w.org.id)));
    expect(entries).toHaveLength(1);
  });
});
