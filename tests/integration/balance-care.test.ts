// Low balance and auto-recharge, asserted on the database: one notification per downward
// crossing (not per delivery), one off-session payment per crossing even with concurrent
// deliveries, credits through settlement, and a declined card turning auto-recharge off.
import { describe, expect, it } from "vitest";
import { and, eq, sql } from "drizzle-orm";
import { auditLog, balanceSettings, creditPacks, notifications, purchases } from "@/db/schema";
import { recordDelivery } from "@/lib/deliveries/service";
import { runQueuedJobs } from "@/lib/jobs/workers";
import { saveCard, setAutoRecharge, setLowBalanceThreshold } from "@/lib/balance-care/settings";
import { runAutoRechargeJob } from "@/lib/balance-care/auto-recharge";
import { QUEUES, retryWindowSeconds } from "@/lib/jobs/queue";
import { runOrgAction } from "@/lib/actions/org-action";
import { setAutoRechargeDef, setLowBalanceThresholdDef } from "@/lib/balance-care/actions";
import { stripe } from "@/lib/stripe/client";
import { createOffSessionPaymentIntent } from "@/lib/stripe/saved-cards";
import { ensureStripeCustomer } from "@/lib/stripe/customers";
import { formatCredits } from "@/lib/money/money";
import { useTestDatabase } from "../support/context";
import { clearFaults, drainDeliveries, injectFault, setChaos, useWebhookReceiver } from "../support/emulator";
import { makeOrg, makePack, makeUser, snapshot } from "../support/fixtures";
import { fund, makeActiveCampaign } from "../support/deliveries";

const { db } = useTestDatabase();

const deliver = (orgId: string, campaignId: string, key: string) => recordDelivery(db, { orgId, campaignId, idempotencyKey: key }).catch((e: Error) => e);

async function autoRechargeJobs() {
  const rows = await db.execute<{ n: number }>(sql`SELECT count(*)::int AS n FROM pgboss.job WHERE name = 'balance.auto-recharge'`);
  return rows[0]!.n;
}

async function world(balance: number) {
  const org = await makeOrg(db);
  const admin = await makeUser(db, { orgId: org.id, role: "admin" });
  await fund(db, org.id, balance);
  const campaign = await makeActiveCampaign(db, org.id, 10);
  return { org, admin, campaign };
}

describe("low balance", () => {
  it("records one notification per downward crossing, with the forecast, even with concurrent deliveries", async () => {
    const w = await world(200);
    await setLowBalanceThreshold(db, { orgId: w.org.id, threshold: 100 });
    await Promise.all(Array.from({ length: 15 }, (_, i) => deliver(w.org.id, w.campaign.id, `a-${i}`))); // 200 → 50
    let notes = await db.select().from(notifications).where(eq(notifications.orgId, w.org.id));
    expect(notes).toHaveLength(1);
    expect(notes[0]).toMatchObject({ kind: "low_balance" });
    expect(notes[0]!.message).toContain("fell below 100 credits");
    expect(notes[0]!.message).toMatch(/At the last 7 days' pace, credits last (about \d+ days?|less than a day)\./);
    expect((notes[0]!.data as { balance: number }).balance).toBe(90);

    // Still below: more deliveries record nothing new.
    await deliver(w.org.id, w.campaign.id, "b-1");
    expect(await db.select().from(notifications).where(eq(notifications.orgId, w.org.id))).toHaveLength(1);

    // Back above the threshold, then below again: a second crossing, a second notification.
    await fund(db, w.org.id, 100); // 40 → 140
    await Promise.all(Array.from({ length: 6 }, (_, i) => deliver(w.org.id, w.campaign.id, `c-${i}`))); // 140 → 80
    notes = await db.select().from(notifications).where(eq(notifications.orgId, w.org.id));
    expect(notes).toHaveLength(2);
    expect((await snapshot(db, w.org.id)).balance).toBe(80);
  });

  it("only admins set the threshold; bad values are refused and change nothing", async () => {
    const w = await world(10);
    const member = await makeUser(db, { orgId: w.org.id, role: "member" });
    expect(await runOrgAction(setLowBalanceThresholdDef, member, { orgSlug: w.org.slug, threshold: 100 }, db)).toMatchObject({ ok: false, code: "forbidden" });
    for (const threshold of [-1, 0, 1.5, "abc", 1e12, "<b>1</b>"]) {
      expect(await runOrgAction(setLowBalanceThresholdDef, w.admin, { orgSlug: w.org.slug, threshold }, db)).toMatchObject({ ok: false, code: "invalid_input" });
    }
    expect(await db.select().from(balanceSettings)).toHaveLength(0);
    expect(await runOrgAction(setLowBalanceThresholdDef, w.admin, { orgSlug: w.org.slug, threshold: 250 }, db)).toEqual({ ok: true, data: { lowBalanceThreshold: 250 } });
  });
});

describe("auto-recharge", () => {
  async function armed(card: "pm_card_visa" | "pm_card_chargeCustomerFail", balance = 200) {
    const w = await world(balance);
    const pack = await makePack(db, { credits: 500, amount: 4900 });
    await saveCard(db, { org: w.org, userId: w.admin.id, requestId: crypto.randomUUID(), paymentMethod: card });
    await setAutoRecharge(db, { orgId: w.org.id, enabled: true, threshold: 100, packId: pack.id });
    return { ...w, pack };
  }

  it("fires exactly once per crossing with concurrent deliveries; the pack's credits arrive through settlement", async () => {
    const w = await armed("pm_card_visa");
    const results = await Promise.all(Array.from({ length: 30 }, (_, i) => deliver(w.org.id, w.campaign.id, `d-${i}`))); // 200 → 0, 10 refused
    expect(results.filter((r) => !(r instanceof Error))).toHaveLength(20);
    expect(await autoRechargeJobs()).toBe(1);

    const runs = await runQueuedJobs(db, { names: ["balance.auto-recharge"] });
    expect(runs).toMatchObject([{ name: "balance.auto-recharge", ok: true, output: { outcome: "paid" } }]);
    const bought = await db.select().from(purchases).where(eq(purchases.orgId, w.org.id));
    expect(bought).toHaveLength(1);
    expect(bought[0]).toMatchObject({ source: "auto_recharge", status: "succeeded", credits: 500, amount: 4900, userId: w.admin.id });
    const pis = await stripe().paymentIntents.list({ limit: 100 });
    expect(pis.data.filter((pi) => pi.metadata.org_id === w.org.id)).toHaveLength(1);
    expect(pis.data[0]).toMatchObject({ status: "succeeded", amount: 4900, metadata: { purchase_id: bought[0]!.id } });

    const s = await snapshot(db, w.org.id);
    expect(s.balance).toBe(500);
    expect(s.entries.filter((e) => e.kind === "purchase")).toHaveLength(1);
    // The campaign paused when the credits ran out resumed with the grant.
    expect(s.campaigns[0]!.status).toBe("active");

    // Running the job again (a retry, a duplicate) pays nothing more.
    const [job] = runs;
    expect(job).toBeDefined();
    const crossing = s.entries.find((e) => e.kind === "usage" && e.balanceAfter < 100 && e.balanceAfter + 10 >= 100)!;
    expect(await runAutoRechargeJob(db, { orgId: w.org.id, crossingEntryId: crossing.id })).toMatchObject({ outcome: "already_final" });
    expect(await db.select().from(purchases).where(eq(purchases.orgId, w.org.id))).toHaveLength(1);
    expect((await snapshot(db, w.org.id)).balance).toBe(500);
  });

  it("skips a crossing when the balance recovered before the job ran", async () => {
    const w = await armed("pm_card_visa", 110);
    await deliver(w.org.id, w.campaign.id, "x"); // 110 → 100: not below
    expect(await autoRechargeJobs()).toBe(0);
    await deliver(w.org.id, w.campaign.id, "y"); // 100 → 90: crossing
    expect(await autoRechargeJobs()).toBe(1);
    await fund(db, w.org.id, 1000);
    expect(await runQueuedJobs(db, { names: ["balance.auto-recharge"] })).toMatchObject([{ ok: true, output: { outcome: "skipped", reason: "balance_recovered" } }]);
    expect(await db.select().from(purchases)).toHaveLength(0);
  });

  it("a declined off-session payment fails the purchase, turns auto-recharge off and tells the admins why", async () => {
    const w = await armed("pm_card_chargeCustomerFail");
    await Promise.all(Array.from({ length: 12 }, (_, i) => deliver(w.org.id, w.campaign.id, `d-${i}`))); // 200 → 80
    const runs = await runQueuedJobs(db, { names: ["balance.auto-recharge"] });
    expect(runs).toMatchObject([{ ok: true, output: { outcome: "declined" } }]);
    const [p] = await db.select().from(purchases).where(eq(purchases.orgId, w.org.id));
    expect(p).toMatchObject({ source: "auto_recharge", status: "failed", failureCode: "generic_decline" });
    const [s] = await db.select().from(balanceSettings).where(eq(balanceSettings.orgId, w.org.id));
    expect(s!.autoRechargeEnabled).toBe(false);
    expect(s!.autoRechargeDisabledReason).toContain("declined");
    const notes = await db.select().from(notifications).where(and(eq(notifications.orgId, w.org.id), eq(notifications.kind, "auto_recharge_failed")));
    expect(notes).toHaveLength(1);
    expect((await snapshot(db, w.org.id)).balance).toBe(80);
    // The webhook for the same decline (and the cancel job) change nothing more.
    await drainDeliveries();
    await runQueuedJobs(db);
    expect(await db.select().from(notifications).where(and(eq(notifications.orgId, w.org.id), eq(notifications.kind, "auto_recharge_failed")))).toHaveLength(1);
    // The audit log tells who saved the card and turned it on, and that the system turned it off.
    const audit = await db.select().from(auditLog).where(eq(auditLog.orgId, w.org.id)).orderBy(auditLog.id);
    expect(audit.map((a) => [a.action, a.actorUserId])).toEqual([
      ["card.save", w.admin.id],
      ["autorecharge.set", null],
      ["autorecharge.disabled", null],
    ]);
    // Further crossings start nothing while it is off.
    await fund(db, w.org.id, 100);
    await Promise.all(Array.from({ length: 10 }, (_, i) => deliver(w.org.id, w.campaign.id, `e-${i}`)));
    expect(await runQueuedJobs(db, { names: ["balance.auto-recharge"] })).toEqual([]);
  });

  // A job that failed after committing its purchase is retried minutes later: what held when the
  // purchase was made (on, below the threshold) may not hold any more, and the retry must not pay.
  describe("a retry after a Stripe outage", () => {
    useWebhookReceiver(db);

    /** Crosses the threshold (200 → 80) and runs the job while Stripe answers 500 to the create. */
    async function firstAttemptFails(card: "pm_card_visa" = "pm_card_visa") {
      const w = await armed(card);
      await Promise.all(Array.from({ length: 12 }, (_, i) => deliver(w.org.id, w.campaign.id, `d-${i}`))); // 200 → 80
      await injectFault({ method: "POST", path: "^/v1/payment_intents$", status: 500, count: 3 }); // the SDK's request and its 2 retries
      expect(await runQueuedJobs(db, { names: ["balance.auto-recharge"] })).toMatchObject([{ ok: false }]);
      await clearFaults();
      const [p] = await db.select().from(purchases).where(eq(purchases.orgId, w.org.id));
      expect(p).toMatchObject({ source: "auto_recharge", status: "pending", stripePaymentIntentId: null });
      return { ...w, purchase: p! };
    }

    const orgIntents = async (orgId: string) => (await stripe().paymentIntents.list({ limit: 100 })).data.filter((pi) => pi.metadata.org_id === orgId);

    it("charges nothing once auto-recharge was turned off meanwhile: the purchase is closed, no PaymentIntent", async () => {
      const w = await firstAttemptFails();
      await setAutoRecharge(db, { orgId: w.org.id, enabled: false, threshold: 100, packId: w.pack.id, userId: w.admin.id });
      const runs = await runQueuedJobs(db, { names: ["balance.auto-recharge"], includeDelayed: true });
      const [p] = await db.select().from(purchases).where(eq(purchases.orgId, w.org.id));
      expect(p).toMatchObject({ id: w.purchase.id, status: "canceled", stripePaymentIntentId: null });
      expect(await orgIntents(w.org.id)).toHaveLength(0);
      const s = await snapshot(db, w.org.id);
      expect(s.balance).toBe(80);
      expect(s.entries.filter((e) => e.kind === "purchase")).toHaveLength(0);
      expect(runs).toMatchObject([{ ok: true, output: { outcome: "skipped", reason: "disabled" } }]);
      // Turned off by an admin, not by a failure: no failure notification.
      expect(await db.select().from(notifications).where(and(eq(notifications.orgId, w.org.id), eq(notifications.kind, "auto_recharge_failed")))).toHaveLength(0);
    });

    it("charges nothing once a top-up brought the balance back above the threshold meanwhile", async () => {
      const w = await firstAttemptFails();
      await fund(db, w.org.id, 1000); // 80 → 1080
      const runs = await runQueuedJobs(db, { names: ["balance.auto-recharge"], includeDelayed: true });
      const [p] = await db.select().from(purchases).where(eq(purchases.orgId, w.org.id));
      expect(p).toMatchObject({ status: "canceled", stripePaymentIntentId: null });
      expect(await orgIntents(w.org.id)).toHaveLength(0);
      const s = await snapshot(db, w.org.id);
      expect(s.balance).toBe(1080);
      expect(s.entries.filter((e) => e.kind === "purchase")).toHaveLength(0);
      expect(runs).toMatchObject([{ ok: true, output: { outcome: "skipped", reason: "balance_recovered" } }]);
      const [settings] = await db.select().from(balanceSettings).where(eq(balanceSettings.orgId, w.org.id));
      expect(settings!.autoRechargeEnabled).toBe(true);
    });

    it("if the first attempt did reach Stripe (its answer lost), the closed purchase is still credited when the payment succeeds, and nothing is charged twice", async () => {
      const w = await firstAttemptFails();
      // The first attempt's request, as it would have gone out: Stripe made and charged the
      // PaymentIntent (key purchase:<id>) but the job never saw the answer. Its webhook is slow,
      // so the retry runs before settlement has seen the payment.
      await setChaos({ delayMs: 3000 });
      const [settings] = await db.select().from(balanceSettings).where(eq(balanceSettings.orgId, w.org.id));
      const lost = await createOffSessionPaymentIntent({
        purchaseId: w.purchase.id,
        orgId: w.org.id,
        customerId: await ensureStripeCustomer(db, w.org),
        paymentMethodId: settings!.paymentMethodId!,
        amount: w.purchase.amount,
        currency: w.purchase.currency,
        description: `Creditloop auto-recharge: ${formatCredits(w.purchase.credits)} credits for ${w.org.name}`,
      });
      expect(lost).toMatchObject({ kind: "intent", paymentIntent: { status: "succeeded" } });
      await setAutoRecharge(db, { orgId: w.org.id, enabled: false, threshold: 100, packId: w.pack.id, userId: w.admin.id });
      expect(await runQueuedJobs(db, { names: ["balance.auto-recharge"], includeDelayed: true })).toMatchObject([{ ok: true, output: { outcome: "skipped" } }]);
      expect((await db.select().from(purchases).where(eq(purchases.orgId, w.org.id)))[0]).toMatchObject({ status: "canceled" });
      // The webhook of the lost payment settles the closed purchase: money in, credits in.
      await drainDeliveries();
      const [p] = await db.select().from(purchases).where(eq(purchases.orgId, w.org.id));
      expect(p).toMatchObject({ status: "succeeded", stripePaymentIntentId: lost.paymentIntent!.id });
      expect(await orgIntents(w.org.id)).toHaveLength(1);
      const s = await snapshot(db, w.org.id);
      expect(s.balance).toBe(580);
      expect(s.entries.filter((e) => e.kind === "purchase")).toHaveLength(1);
      // A late duplicate of the job pays nothing more.
      expect(await runQueuedJobs(db, { includeDelayed: true })).not.toContainEqual(expect.objectContaining({ name: "balance.auto-recharge", ok: false }));
      expect(await orgIntents(w.org.id)).toHaveLength(1);
    });
  });

  // A purchase that never gets a PaymentIntent must not stay pending for good: a pending
  // auto-recharge purchase makes every later crossing skip ("in_flight").
  describe("a payment that cannot be made", () => {
    const failureNotes = (orgId: string) =>
      db.select().from(notifications).where(and(eq(notifications.orgId, orgId), eq(notifications.kind, "auto_recharge_failed")));

    it("a saved card Stripe refuses to charge (invalid_request_error) fails the purchase, turns auto-recharge off and tells the admins why", async () => {
      const w = await armed("pm_card_visa");
      // The saved PaymentMethod no longer exists at Stripe (removed at the dashboard): every create
      // with it is a 400 "No such PaymentMethod", whatever the number of retries.
      await db.update(balanceSettings).set({ paymentMethodId: "pm_removed_at_dashboard" }).where(eq(balanceSettings.orgId, w.org.id));
      await Promise.all(Array.from({ length: 12 }, (_, i) => deliver(w.org.id, w.campaign.id, `d-${i}`))); // 200 → 80
      const runs = await runQueuedJobs(db, { names: ["balance.auto-recharge"], includeDelayed: true });
      const [p] = await db.select().from(purchases).where(eq(purchases.orgId, w.org.id));
      expect(p).toMatchObject({ source: "auto_recharge", status: "failed", failureCode: "resource_missing", stripePaymentIntentId: null });
      const [s] = await db.select().from(balanceSettings).where(eq(balanceSettings.orgId, w.org.id));
      expect(s!.autoRechargeEnabled).toBe(false);
      expect(s!.autoRechargeDisabledReason).toContain("No such PaymentMethod");
      const notes = await failureNotes(w.org.id);
      expect(notes).toHaveLength(1);
      expect(notes[0]!.message).toContain("could not be made");
      expect((await stripe().paymentIntents.list({ limit: 100 })).data.filter((pi) => pi.metadata.org_id === w.org.id)).toHaveLength(0);
      expect((await snapshot(db, w.org.id)).balance).toBe(80);
      // One run: a refusal is not retried.
      expect(runs).toMatchObject([{ ok: true, output: { outcome: "failed", purchaseId: p!.id, status: "failed" } }]);
    });

    it("a pack taken off sale: auto-recharge turns off and tells the admins to choose another pack (not a card decline), charging nothing", async () => {
      const w = await armed("pm_card_visa");
      await db.update(creditPacks).set({ active: false }).where(eq(creditPacks.id, w.pack.id));
      await Promise.all(Array.from({ length: 12 }, (_, i) => deliver(w.org.id, w.campaign.id, `d-${i}`))); // 200 → 80
      expect(await runQueuedJobs(db, { names: ["balance.auto-recharge"] })).toMatchObject([{ ok: true, output: { outcome: "skipped", reason: "no_pack" } }]);
      const [s] = await db.select().from(balanceSettings).where(eq(balanceSettings.orgId, w.org.id));
      expect(s!.autoRechargeEnabled).toBe(false);
      const notes = await failureNotes(w.org.id);
      expect(notes).toHaveLength(1);
      expect(notes[0]!.message).toBe(s!.autoRechargeDisabledReason);
      expect(notes[0]!.message).toContain("could not be made (The chosen credit pack is no longer available)");
      expect(notes[0]!.message).toContain("until an admin chooses a pack on sale");
      expect(notes[0]!.message).not.toMatch(/declined|saves a card/);
      expect(await db.select().from(purchases).where(eq(purchases.orgId, w.org.id))).toHaveLength(0);
      expect((await stripe().paymentIntents.list({ limit: 100 })).data.filter((pi) => pi.metadata.org_id === w.org.id)).toHaveLength(0);
      expect((await snapshot(db, w.org.id)).balance).toBe(80);
    });

    it("a purchase left without a PaymentIntent once its job ran out of retries (a long outage) does not block later crossings", async () => {
      const w = await armed("pm_card_visa");
      await Promise.all(Array.from({ length: 12 }, (_, i) => deliver(w.org.id, w.campaign.id, `d-${i}`))); // 200 → 80
      // Stripe answers 500 to every create until the job has used all its attempts.
      await injectFault({ method: "POST", path: "^/v1/payment_intents$", status: 500 });
      const runs = await runQueuedJobs(db, { names: ["balance.auto-recharge"], includeDelayed: true });
      expect(runs).toHaveLength(QUEUES["balance.auto-recharge"].retryLimit! + 1);
      expect(runs.every((r) => !r.ok)).toBe(true);
      await clearFaults();
      const [stuck] = await db.select().from(purchases).where(eq(purchases.orgId, w.org.id));
      expect(stuck).toMatchObject({ status: "pending", stripePaymentIntentId: null });

      // Topped up by hand and spent again: the next crossing, while the purchase is younger than
      // the job's retry window, still finds it in flight (its job could still be retrying).
      await fund(db, w.org.id, 200); // 80 → 280
      await Promise.all(Array.from({ length: 19 }, (_, i) => deliver(w.org.id, w.campaign.id, `e-${i}`))); // 280 → 90
      expect(await runQueuedJobs(db, { names: ["balance.auto-recharge"] })).toMatchObject([{ ok: true, output: { outcome: "skipped", reason: "in_flight" } }]);

      // Older than the whole retry window: its job can no longer run, so it is closed, and the
      // crossing after it recharges.
      const windowSeconds = retryWindowSeconds("balance.auto-recharge");
      await db.execute(sql`UPDATE purchases SET created_at = now() - ${windowSeconds + 60} * interval '1 second' WHERE id = ${stuck!.id}`);
      await fund(db, w.org.id, 100); // 90 → 190
      await Promise.all(Array.from({ length: 10 }, (_, i) => deliver(w.org.id, w.campaign.id, `f-${i}`))); // 190 → 90
      const later = await runQueuedJobs(db, { names: ["balance.auto-recharge"] });
      const all = await db.select().from(purchases).where(eq(purchases.orgId, w.org.id)).orderBy(purchases.createdAt);
      expect(all).toHaveLength(2);
      expect(all[0]).toMatchObject({ id: stuck!.id, status: "canceled", failureCode: "abandoned", stripePaymentIntentId: null });
      expect(all[1]).toMatchObject({ status: "succeeded", credits: 500 });
      expect((await stripe().paymentIntents.list({ limit: 100 })).data.filter((pi) => pi.metadata.org_id === w.org.id)).toHaveLength(1);
      expect((await snapshot(db, w.org.id)).balance).toBe(590);
      expect(later).toMatchObject([{ ok: true, output: { outcome: "paid" } }]);
      // Still on: an outage is not the card's fault.
      const [s] = await db.select().from(balanceSettings).where(eq(balanceSettings.orgId, w.org.id));
      expect(s!.autoRechargeEnabled).toBe(true);
      expect(await failureNotes(w.org.id)).toHaveLength(0);
    }, 60_000);
  });

  it("a card declined when saving is not saved; auto-recharge cannot be turned on without a card", async () => {
    const w = await world(50);
    const pack = await makePack(db);
    await expect(saveCard(db, { org: w.org, userId: w.admin.id, requestId: crypto.randomUUID(), paymentMethod: "pm_card_visa_chargeDeclined" })).rejects.toMatchObject({ code: "payment_declined" });
    expect(await runOrgAction(setAutoRechargeDef, w.admin, { orgSlug: w.org.slug, enabled: true, threshold: 100, packId: pack.id }, db)).toMatchObject({ ok: false, code: "conflict" });
    expect(await db.select().from(balanceSettings)).toHaveLength(0);
  });
});
