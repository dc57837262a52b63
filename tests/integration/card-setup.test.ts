// Saving a card for auto-recharge through SetupIntents (lib/balance-care/card-setup.ts), with the
// browser's part done as Stripe.js would (confirm at the emulator with a test card), the settings
// page's verification and the setup_intent.* webhooks arriving in every order, duplicated and
// stale. Asserted on the database: the saved card, the attempts, the audit, the notifications and
// the detach jobs, and at the emulator: which cards stay attached.
import { describe, expect, it } from "vitest";
import { and, eq, sql } from "drizzle-orm";
import { auditLog, balanceSettings, cardSetups, notifications } from "@/db/schema";
import { runOrgAction } from "@/lib/actions/org-action";
import { startCardSetupDef, verifyCardSetupDef } from "@/lib/balance-care/actions";
import { confirmTestCardDef, startTopUpDef } from "@/lib/topups/actions";
import { purchases } from "@/db/schema";
import type Stripe from "stripe";
import { applySetupIntent, runDetachJob, startCardSetup } from "@/lib/balance-care/card-setup";
import { saveCard, setAutoRecharge } from "@/lib/balance-care/settings";
import { runQueuedJobs } from "@/lib/jobs/workers";
import { stripe } from "@/lib/stripe/client";
import { createSetupIntent } from "@/lib/stripe/saved-cards";
import { ensureStripeCustomer } from "@/lib/stripe/customers";
import { useTestDatabase } from "../support/context";
import { drainDeliveries, resendEvent, setChaos, useWebhookReceiver } from "../support/emulator";
import { makeOrg, makePack, makeUser } from "../support/fixtures";

const { db } = useTestDatabase();
useWebhookReceiver(db);

async function world() {
  const org = await makeOrg(db);
  const admin = await makeUser(db, { orgId: org.id, role: "admin" });
  return { org, admin };
}
type W = Awaited<ReturnType<typeof world>>;

/** The settings page's start (server action) and Stripe.js's confirm with a test card. */
async function startAndConfirm(w: W, pm = "pm_card_visa") {
  const started = await runOrgAction(startCardSetupDef, w.admin, { orgSlug: w.org.slug, requestId: crypto.randomUUID() }, db);
  if (!started.ok) throw new Error(started.error);
  expect(started.data.clientSecret).toMatch(new RegExp(`^${started.data.setupIntentId}_secret_`));
  const confirmed = await stripe().setupIntents.confirm(started.data.setupIntentId, { payment_method: pm }).catch((e: Error) => e);
  return { setupIntentId: started.data.setupIntentId, confirmed };
}
async function start(w: W) {
  const r = await runOrgAction(startCardSetupDef, w.admin, { orgSlug: w.org.slug, requestId: crypto.randomUUID() }, db);
  if (!r.ok) throw new Error(r.error);
  return r.data.setupIntentId;
}
const confirm = async (seti: string, pm = "pm_card_visa") => {
  const si = await stripe().setupIntents.confirm(seti, { payment_method: pm });
  return si.payment_method as string;
};
const verify = (w: W, setupIntentId: string) => runOrgAction(verifyCardSetupDef, w.admin, { orgSlug: w.org.slug, setupIntentId }, db);
const settings = async (orgId: string) => (await db.select().from(balanceSettings).where(eq(balanceSettings.orgId, orgId)))[0];
const cardSaves = async (orgId: string) => db.select().from(auditLog).where(and(eq(auditLog.orgId, orgId), eq(auditLog.action, "card.save")));
async function detachJobs(pm?: string) {
  const rows = await db.execute<{ pm: string }>(sql`SELECT data->>'paymentMethodId' AS pm FROM pgboss.job WHERE name = 'stripe.detach-payment-method'`);
  return rows.map((r) => r.pm).filter((x) => !pm || x === pm);
}
const attachedTo = async (pm: string) => (await stripe().paymentMethods.retrieve(pm)).customer;

describe("saving a card with a SetupIntent", () => {
  it("webhook before the page: the webhook saves the card; the page's verification finds it saved and changes nothing", async () => {
    const w = await world();
    const { setupIntentId } = await startAndConfirm(w);
    await drainDeliveries();
    const s = await settings(w.org.id);
    expect(s).toMatchObject({ cardBrand: "visa", cardLast4: "4242", cardSavedByUserId: w.admin.id });
    expect(s!.paymentMethodId).toMatch(/^pm_/);
    const [attempt] = await db.select().from(cardSetups).where(eq(cardSetups.stripeSetupIntentId, setupIntentId));
    expect(attempt).toMatchObject({ status: "succeeded", paymentMethodId: s!.paymentMethodId, orgId: w.org.id });
    expect(s!.cardSetupId).toBe(attempt!.id);

    expect(await verify(w, setupIntentId)).toEqual({ ok: true, data: { status: "saved", cardBrand: "visa", cardLast4: "4242", message: null } });
    expect(await cardSaves(w.org.id)).toHaveLength(1);
    expect(await settings(w.org.id)).toEqual(s);
    expect(await detachJobs()).toEqual([]);
  });

  it("page before the webhook: the page saves the card; the late (and duplicated) webhook changes nothing", async () => {
    const w = await world();
    await setChaos({ delayMs: 1500, duplicate: 1 });
    const { setupIntentId } = await startAndConfirm(w);
    expect(await verify(w, setupIntentId)).toMatchObject({ ok: true, data: { status: "saved", cardLast4: "4242" } });
    const s = await settings(w.org.id);
    await drainDeliveries();
    expect(await settings(w.org.id)).toEqual(s);
    expect(await cardSaves(w.org.id)).toHaveLength(1);
    const [attempt] = await db.select().from(cardSetups);
    expect(attempt!.status).toBe("succeeded");
  });

  it("page and webhook at the same moment apply the SetupIntent once", async () => {
    const w = await world();
    const { setupIntentId } = await startAndConfirm(w);
    const results = await Promise.all([verify(w, setupIntentId), verify(w, setupIntentId), drainDeliveries()]);
    expect(results[0]).toMatchObject({ ok: true, data: { status: "saved" } });
    expect(results[1]).toMatchObject({ ok: true, data: { status: "saved" } });
    expect(await cardSaves(w.org.id)).toHaveLength(1);
  });

  it("a stale SetupIntent does not overwrite a newer card: it is superseded and its card detached (once, by a job)", async () => {
    const w = await world();
    await setChaos({ delayMs: 60_000 }); // webhooks out of the way: the pages decide
    const older = await start(w);
    const newer = await start(w);
    const newerPm = await confirm(newer);
    expect(await verify(w, newer)).toMatchObject({ ok: true, data: { status: "saved" } });
    const olderPm = await confirm(older);
    expect(await verify(w, older)).toMatchObject({ ok: true, data: { status: "superseded" } });
    expect((await settings(w.org.id))!.paymentMethodId).toBe(newerPm);
    const attempts = await db.select().from(cardSetups).orderBy(cardSetups.id);
    expect(attempts.map((a) => a.status)).toEqual(["superseded", "succeeded"]);
    expect(await detachJobs()).toEqual([olderPm]);
    // Verifying again (a reload) enqueues nothing more.
    await verify(w, older);
    expect(await detachJobs()).toEqual([olderPm]);

    const runs = await runQueuedJobs(db, { names: ["stripe.detach-payment-method"] });
    expect(runs).toMatchObject([{ ok: true, output: { outcome: "detached" } }]);
    expect(await attachedTo(olderPm)).toBeNull();
    expect(await attachedTo(newerPm)).not.toBeNull();
    // The job again (a retry after a crash): nothing more at Stripe.
    expect(await runDetachJob(db, { orgId: w.org.id, paymentMethodId: olderPm })).toEqual({ outcome: "already_detached" });
    // It never detaches the card in use.
    expect(await runDetachJob(db, { orgId: w.org.id, paymentMethodId: newerPm })).toEqual({ outcome: "in_use" });
    expect(await attachedTo(newerPm)).not.toBeNull();
    const detached = (await stripe().events.list({ type: "payment_method.detached", limit: 10 })).data;
    expect(detached.map((e) => (e.data.object as { id: string }).id)).toEqual([olderPm]);
  });

  it("duplicated and reordered webhooks of two attempts end with the newer card; the older one is detached once", async () => {
    const w = await world();
    await setChaos({ duplicate: 2, reorder: true, delayMs: 300 });
    const older = await start(w);
    const newer = await start(w);
    const olderPm = await confirm(older);
    const newerPm = await confirm(newer);
    await drainDeliveries();
    expect((await settings(w.org.id))!.paymentMethodId).toBe(newerPm);
    expect(await detachJobs(olderPm)).toHaveLength(1);
    expect(await detachJobs(newerPm)).toHaveLength(0);
    await runQueuedJobs(db, { names: ["stripe.detach-payment-method"] });
    expect(await attachedTo(olderPm)).toBeNull();
    expect(await attachedTo(newerPm)).not.toBeNull();
    // The pages verifying afterwards agree and change nothing.
    const before = await settings(w.org.id);
    await verify(w, older);
    await verify(w, newer);
    expect(await settings(w.org.id)).toEqual(before);
  });

  it("replacing a card (test-card form) keeps auto-recharge on the new card and detaches the old one once", async () => {
    const w = await world();
    const pack = await makePack(db);
    const first = await saveCard(db, { org: w.org, userId: w.admin.id, requestId: crypto.randomUUID(), paymentMethod: "pm_card_visa" });
    await setAutoRecharge(db, { orgId: w.org.id, enabled: true, threshold: 100, packId: pack.id });
    const second = await saveCard(db, { org: w.org, userId: w.admin.id, requestId: crypto.randomUUID(), paymentMethod: "pm_card_visa" });
    expect(second.paymentMethodId).not.toBe(first.paymentMethodId);
    expect(second.autoRechargeEnabled).toBe(true);
    await drainDeliveries(); // the webhooks of both attempts: nothing more
    expect(await detachJobs()).toEqual([first.paymentMethodId]);
    await runQueuedJobs(db, { names: ["stripe.detach-payment-method"] });
    await runQueuedJobs(db, { names: ["stripe.detach-payment-method"] });
    expect(await attachedTo(first.paymentMethodId!)).toBeNull();
    expect(await attachedTo(second.paymentMethodId!)).not.toBeNull();
    expect((await settings(w.org.id))!.paymentMethodId).toBe(second.paymentMethodId);
  });

  it("setup_failed: the attempt records why, the admins get one notification, nothing is enabled; a stale failure after a later success changes nothing", async () => {
    const w = await world();
    const pack = await makePack(db);
    const old = await saveCard(db, { org: w.org, userId: w.admin.id, requestId: crypto.randomUUID(), paymentMethod: "pm_card_visa" });
    await setAutoRecharge(db, { orgId: w.org.id, enabled: true, threshold: 100, packId: pack.id });
    await drainDeliveries();

    const { setupIntentId, confirmed } = await startAndConfirm(w, "pm_card_visa_chargeDeclinedInsufficientFunds");
    expect(confirmed).toBeInstanceOf(Error);
    await setChaos({ duplicate: 1 });
    await drainDeliveries();
    const [attempt] = await db.select().from(cardSetups).where(eq(cardSetups.stripeSetupIntentId, setupIntentId));
    expect(attempt).toMatchObject({ status: "failed", failureCode: "insufficient_funds" });
    const notes = await db.select().from(notifications).where(and(eq(notifications.orgId, w.org.id), eq(notifications.kind, "card_setup_failed")));
    expect(notes).toHaveLength(1);
    expect(notes[0]!.message).toContain("could not be saved");
    expect(await verify(w, setupIntentId)).toMatchObject({ ok: true, data: { status: "failed", message: expect.stringContaining("insufficient funds") } });
    // The old card and auto-recharge are untouched.
    expect(await settings(w.org.id)).toMatchObject({ paymentMethodId: old.paymentMethodId, autoRechargeEnabled: true });

    // The same SetupIntent confirmed again with a good card succeeds; the old failure event
    // delivered again afterwards (stale) does not undo it.
    const newPm = await confirm(setupIntentId);
    await drainDeliveries();
    expect((await settings(w.org.id))!.paymentMethodId).toBe(newPm);
    const failedEvent = (await stripe().events.list({ type: "setup_intent.setup_failed", limit: 1 })).data[0]!;
    await resendEvent(failedEvent.id);
    await drainDeliveries();
    const [after] = await db.select().from(cardSetups).where(eq(cardSetups.stripeSetupIntentId, setupIntentId));
    expect(after).toMatchObject({ status: "succeeded", paymentMethodId: newPm });
    expect((await settings(w.org.id))!.paymentMethodId).toBe(newPm);
    // A page that read the SetupIntent before the success (the failure copy) is told what was recorded.
    const staleCopy = failedEvent.data.object as Stripe.SetupIntent;
    expect(await db.transaction((tx) => applySetupIntent(tx, staleCopy, null, "page"))).toEqual({
      status: "saved",
      card: { paymentMethodId: newPm, brand: "visa", last4: "4242" },
    });
    expect(await db.select().from(cardSetups).where(eq(cardSetups.stripeSetupIntentId, setupIntentId))).toEqual([after]);
  });

  it("a declined card on the test-card form saves nothing and creates no settings", async () => {
    const w = await world();
    await expect(saveCard(db, { org: w.org, userId: w.admin.id, requestId: crypto.randomUUID(), paymentMethod: "pm_card_visa_chargeDeclined" })).rejects.toMatchObject({ code: "payment_declined" });
    await drainDeliveries();
    expect(await db.select().from(balanceSettings)).toHaveLength(0);
    expect(await db.select().from(cardSetups)).toMatchObject([{ status: "failed", failureCode: "generic_decline" }]);
  });

  it("another organisation's SetupIntent: the page refuses it, the webhook ignores one that is not ours", async () => {
    const w = await world();
    const other = await world();
    const { setupIntentId } = await startAndConfirm(other);
    expect(await verify(w, setupIntentId)).toMatchObject({ ok: false, code: "not_found" });
    expect(await verify(w, "seti_doesnotexist")).toMatchObject({ ok: false, code: "not_found" });
    // A SetupIntent made at Stripe outside Creditloop, even naming our organisation in metadata.
    const customer = await ensureStripeCustomer(db, w.org);
    const foreign = await stripe().setupIntents.create({ customer, metadata: { org_id: w.org.id, card_setup_id: "999" } });
    await stripe().setupIntents.confirm(foreign.id, { payment_method: "pm_card_visa" });
    await drainDeliveries();
    expect(await settings(w.org.id)).toBeUndefined();
    expect((await settings(other.org.id))!.cardLast4).toBe("4242");
  });

  it("a SetupIntent whose link was lost (crash after the create) is found by its metadata and saved by the webhook", async () => {
    const w = await world();
    const requestId = crypto.randomUUID();
    const [row] = await db.insert(cardSetups).values({ orgId: w.org.id, userId: w.admin.id, requestId }).returning();
    const customerId = await ensureStripeCustomer(db, w.org);
    const si = await createSetupIntent({ customerId, orgId: w.org.id, cardSetupId: row!.id, requestId });
    const pm = await confirm(si.id);
    await drainDeliveries();
    const [after] = await db.select().from(cardSetups).where(eq(cardSetups.id, row!.id));
    expect(after).toMatchObject({ stripeSetupIntentId: si.id, status: "succeeded", paymentMethodId: pm });
    expect((await settings(w.org.id))!.paymentMethodId).toBe(pm);
    // The retried start (same request id) gets the same SetupIntent and changes nothing.
    await expect(startCardSetup(db, { org: w.org, userId: w.admin.id, requestId })).rejects.toMatchObject({ code: "conflict" });
  });

  it("only admins start and verify card setups; a request id of another organisation is refused", async () => {
    const w = await world();
    const member = await makeUser(db, { orgId: w.org.id, role: "member" });
    expect(await runOrgAction(startCardSetupDef, member, { orgSlug: w.org.slug, requestId: crypto.randomUUID() }, db)).toMatchObject({ ok: false, code: "forbidden" });
    const requestId = crypto.randomUUID();
    const first = await runOrgAction(startCardSetupDef, w.admin, { orgSlug: w.org.slug, requestId }, db);
    const again = await runOrgAction(startCardSetupDef, w.admin, { orgSlug: w.org.slug, requestId }, db);
    expect(first.ok && again.ok && again.data.setupIntentId === first.data.setupIntentId).toBe(true);
    const other = await world();
    expect(await runOrgAction(startCardSetupDef, other.admin, { orgSlug: other.org.slug, requestId }, db)).toMatchObject({ ok: false, code: "conflict" });
    expect(await db.select().from(cardSetups)).toHaveLength(1);
  });
});

describe("saving the card of a top-up (setup_future_usage)", () => {
  async function topUp(w: W, opts: { saveCard?: boolean; pm?: "pm_card_visa" | "pm_card_visa_chargeDeclined"; requestId?: string; user?: W["admin"] } = {}) {
    const pack = await makePack(db, { credits: 300, amount: 2900 });
    const started = await runOrgAction(startTopUpDef, opts.user ?? w.admin, { orgSlug: w.org.slug, packId: pack.id, requestId: opts.requestId ?? crypto.randomUUID(), saveCard: opts.saveCard }, db);
    if (!started.ok) return { started, paid: null };
    const paid = await runOrgAction(confirmTestCardDef, opts.user ?? w.admin, { orgSlug: w.org.slug, purchaseId: started.data.purchaseId, paymentMethod: opts.pm ?? "pm_card_visa" }, db);
    return { started, paid };
  }
  const cardJobs = () => runQueuedJobs(db, { names: ["balance.save-card-from-payment", "stripe.detach-payment-method"] });

  it("an admin's top-up with the box ticked saves the paid card once (settlement → job); credits arrive as usual", async () => {
    const w = await world();
    const { started } = await topUp(w, { saveCard: true });
    expect(started.ok).toBe(true);
    await drainDeliveries(); // payment_intent.succeeded: settlement again, nothing more
    const runs = await cardJobs();
    expect(runs).toMatchObject([{ name: "balance.save-card-from-payment", ok: true, output: { outcome: "saved" } }]);
    const [purchase] = await db.select().from(purchases).where(eq(purchases.orgId, w.org.id));
    expect(purchase!.status).toBe("succeeded");
    const pi = await stripe().paymentIntents.retrieve(purchase!.stripePaymentIntentId!);
    expect(pi.setup_future_usage).toBe("off_session");
    const s = await settings(w.org.id);
    expect(s).toMatchObject({ paymentMethodId: pi.payment_method, cardLast4: "4242", cardSavedByUserId: w.admin.id });
    expect(await attachedTo(pi.payment_method as string)).not.toBeNull();
    // The job again (a retry) changes nothing.
    const { runSaveCardFromPaymentJob } = await import("@/lib/balance-care/card-setup");
    expect(await runSaveCardFromPaymentJob(db, { purchaseId: purchase!.id })).toEqual({ outcome: "saved" });
    expect(await cardSaves(w.org.id)).toHaveLength(1);
    expect(await settings(w.org.id)).toEqual(s);
  });

  it("without the box, a member's top-up, or a declined payment: nothing is saved", async () => {
    const w = await world();
    const member = await makeUser(db, { orgId: w.org.id, role: "member" });
    await topUp(w);
    const refused = await topUp(w, { saveCard: true, user: member });
    expect(refused.started).toMatchObject({ ok: false, code: "forbidden" });
    await topUp(w, { saveCard: true, pm: "pm_card_visa_chargeDeclined" });
    await drainDeliveries();
    expect(await cardJobs()).toEqual([]);
    expect(await settings(w.org.id)).toBeUndefined();
    // Two purchases (the member's was refused before any was made), one card attempt (the declined one's).
    expect(await db.select().from(purchases).where(eq(purchases.orgId, w.org.id))).toHaveLength(2);
    expect(await db.select().from(cardSetups)).toHaveLength(1);
  });

  it("a re-submit of the same checkout keeps its first answer (no idempotency conflict at Stripe)", async () => {
    const w = await world();
    const pack = await makePack(db);
    const requestId = crypto.randomUUID();
    const first = await runOrgAction(startTopUpDef, w.admin, { orgSlug: w.org.slug, packId: pack.id, requestId, saveCard: false }, db);
    const again = await runOrgAction(startTopUpDef, w.admin, { orgSlug: w.org.slug, packId: pack.id, requestId, saveCard: true }, db);
    expect(first.ok && again.ok && again.data.clientSecret === first.data.clientSecret).toBe(true);
    expect(await db.select().from(cardSetups)).toHaveLength(0);
  });

  it("a card saved from the settings page after the top-up started is newer: the top-up's card is superseded and detached", async () => {
    const w = await world();
    const pack = await makePack(db);
    const started = await runOrgAction(startTopUpDef, w.admin, { orgSlug: w.org.slug, packId: pack.id, requestId: crypto.randomUUID(), saveCard: true }, db);
    if (!started.ok) throw new Error(started.error);
    const newer = await saveCard(db, { org: w.org, userId: w.admin.id, requestId: crypto.randomUUID(), paymentMethod: "pm_card_visa" });
    await runOrgAction(confirmTestCardDef, w.admin, { orgSlug: w.org.slug, purchaseId: started.data.purchaseId, paymentMethod: "pm_card_visa" }, db);
    await drainDeliveries(); // payment_intent.succeeded settles the purchase
    const runs = await cardJobs();
    expect(runs.map((r) => [r.name, (r.output as { outcome: string }).outcome])).toEqual([
      ["balance.save-card-from-payment", "superseded"],
      ["stripe.detach-payment-method", "detached"],
    ]);
    expect((await settings(w.org.id))!.paymentMethodId).toBe(newer.paymentMethodId);
    expect(await attachedTo(newer.paymentMethodId!)).not.toBeNull();
  });
});
