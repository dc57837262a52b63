// The server actions' rows for the access matrix (and the valid inputs the bad-input tests
// start from): for every export of a "use server" module, how to build a valid input from a
// world of users, and the expected outcome for each kind of caller. See
// tests/integration/access-matrix.test.ts for how rows are used and how to add one.
import type { Db } from "@/db/client";
import type { SessionUser } from "@/lib/auth/access";
import { runOrgAction } from "@/lib/actions/org-action";
import type { ErrorCode } from "@/lib/errors";
import { confirmTestCardDef, startTopUpDef } from "@/lib/topups/actions";
import { stripeEvents } from "@/db/schema";
import { stripe } from "@/lib/stripe/client";
import { settleFromPaymentIntent } from "@/lib/topups/settle";
import { syncCatalogue } from "@/lib/plans/sync";
import { changePlanDef, confirmSubscriptionTestCardDef, startSubscriptionDef } from "@/lib/subscriptions/actions";
import { createApiKey } from "@/lib/api-keys/service";
import { saveCard } from "@/lib/balance-care/settings";
import { startCardSetupDef } from "@/lib/balance-care/actions";
import { makeCoupon, makeOrg, makePack, makeUser } from "./fixtures";
import { fund, makeActiveCampaign } from "./deliveries";

export const ACTORS = ["anonymous", "otherOrg", "otherOrgOwnSlug", "member", "otherMember", "admin", "staff"] as const;
export type Actor = (typeof ACTORS)[number];
export const ROUTE_ACTORS = ["anonymous", "otherOrg", "member", "admin", "staff"] as const;
export type RouteActor = (typeof ROUTE_ACTORS)[number];

export type World = Awaited<ReturnType<typeof makeWorld>>;
export type Prepared = { purchaseId?: string; eventId?: string; subscriptionId?: string; campaignId?: string; keyId?: string; setupIntentId?: string };

export async function makeWorld(db: Db) {
  const org = await makeOrg(db);
  const other = await makeOrg(db);
  const member = await makeUser(db, { orgId: org.id, role: "member" });
  const otherMember = await makeUser(db, { orgId: org.id, role: "member" });
  const admin = await makeUser(db, { orgId: org.id, role: "admin" });
  const otherAdmin = await makeUser(db, { orgId: other.id, role: "admin" });
  const staff = await makeUser(db, { isStaff: true });
  const pack = await makePack(db);
  const coupon = await makeCoupon(db, { percentOff: 10 });
  const users: Record<Actor, SessionUser | null> = {
    anonymous: null,
    otherOrg: otherAdmin,
    otherOrgOwnSlug: otherAdmin,
    member,
    otherMember,
    admin,
    staff,
  };
  return { db, org, other, pack, coupon, users };
}

/** A pending purchase of our organisation, started by its member (so creator-only rules pass for them). */
async function pendingPurchase(w: World): Promise<Prepared> {
  const started = await runOrgAction(startTopUpDef, w.users.member, { orgSlug: w.org.slug, packId: w.pack.id, requestId: crypto.randomUUID() }, w.db);
  if (!started.ok) throw new Error(`setup: ${started.error}`);
  return { purchaseId: started.data.purchaseId };
}

/** The plan catalogue at the emulator and in the database (both are reset before each test). */
async function plansSynced(w: World): Promise<Prepared> {
  await syncCatalogue(w.db, stripe());
  return {};
}

/** Our organisation's admin has started Growth monthly; its first invoice is unpaid. */
async function unpaidSubscription(w: World): Promise<Prepared> {
  await plansSynced(w);
  const r = await runOrgAction(startSubscriptionDef, w.users.admin, { orgSlug: w.org.slug, planKey: "growth", interval: "month", requestId: crypto.randomUUID() }, w.db);
  if (!r.ok) throw new Error(`setup: ${r.error}`);
  return { subscriptionId: r.data.subscriptionId };
}

/** Our organisation is on Growth monthly, paid. */
async function activeSubscription(w: World): Promise<Prepared> {
  const p = await unpaidSubscription(w);
  const r = await runOrgAction(confirmSubscriptionTestCardDef, w.users.admin, { orgSlug: w.org.slug, subscriptionId: p.subscriptionId, paymentMethod: "pm_card_visa" }, w.db);
  if (!r.ok || r.data.outcome !== "processing") throw new Error("setup: expected the first invoice paid");
  return p;
}

// Plan changes are for admins: members are refused every one (forbidden); people of other
// organisations and staff find nothing (not_found). otherOrgOwnSlug names their own organisation,
// which has no plan (not_found) — except starting one, which is theirs to do.
const ADMIN_ONLY_ON_OUR_PLAN: Record<Actor, Outcome> = { anonymous: "unauthenticated", otherOrg: "not_found", otherOrgOwnSlug: "not_found", member: "forbidden", otherMember: "forbidden", admin: "ok", staff: "not_found" };

export type Outcome = "ok" | ErrorCode;
export type ActionRow = {
  prepare?: (w: World) => Promise<Prepared>;
  input: (w: World, p: Prepared) => Record<string, unknown>;
  expect: Record<Actor, Outcome>;
  /** Who the bad-input test calls it as (default admin; staff-only actions need staff). */
  badInputActor?: Actor;
};

/** Staff console actions: staff only; everyone else, signed out included, gets not_found. */
const STAFF_ONLY: Record<Actor, Outcome> = {
  anonymous: "not_found",
  otherOrg: "not_found",
  otherOrgOwnSlug: "not_found",
  member: "not_found",
  otherMember: "not_found",
  admin: "not_found",
  staff: "ok",
};

/** A purchase of our organisation, paid at Stripe (emulator) and settled as the webhook would. */
async function succeededPurchase(w: World): Promise<Prepared> {
  const p = await pendingPurchase(w);
  const { purchases } = await import("@/db/schema");
  const { eq } = await import("drizzle-orm");
  const [row] = await w.db.select().from(purchases).where(eq(purchases.id, p.purchaseId!));
  const pi = await stripe().paymentIntents.confirm(row!.stripePaymentIntentId!, { payment_method: "pm_card_visa" });
  await w.db.transaction((tx) => settleFromPaymentIntent(tx, pi));
  return p;
}

/** A stored event whose only attempt failed (replay processes it: an unhandled type, so "ignored"). */
async function failedEvent(w: World): Promise<Prepared> {
  const id = `evt_test_${crypto.randomUUID().replace(/-/g, "")}`;
  const payload = { id, object: "event", type: "customer.created", livemode: false, created: 1, api_version: null, data: { object: { id: "cus_x", object: "customer" } } };
  await w.db.insert(stripeEvents).values({ id, type: "customer.created", livemode: false, payload, attempts: 1, lastError: "test failure", lastFailedAt: new Date() });
  return { eventId: id };
}

export const ACTION_TABLE: Record<string, ActionRow> = {
  startSubscriptionAction: {
    prepare: plansSynced,
    input: (w) => ({ orgSlug: w.org.slug, planKey: "growth", interval: "month", requestId: crypto.randomUUID() }),
    expect: { ...ADMIN_ONLY_ON_OUR_PLAN, otherOrgOwnSlug: "ok" },
  },
  // The hosted checkout path (CHECKOUT_MODE=hosted, or a dev/preview page): admins only, as the embedded start.
  startPlanCheckoutAction: {
    prepare: plansSynced,
    input: (w) => ({ orgSlug: w.org.slug, planKey: "growth", interval: "month", requestId: crypto.randomUUID() }),
    expect: { ...ADMIN_ONLY_ON_OUR_PLAN, otherOrgOwnSlug: "ok" },
  },
  confirmSubscriptionTestCardAction: {
    prepare: unpaidSubscription,
    input: (w, p) => ({ orgSlug: w.org.slug, subscriptionId: p.subscriptionId, paymentMethod: "pm_card_visa" }),
    expect: ADMIN_ONLY_ON_OUR_PLAN,
  },
  authenticateSubscriptionPaymentAction: {
    prepare: async (w) => {
      const p = await unpaidSubscription(w);
      const r = await runOrgAction(confirmSubscriptionTestCardDef, w.users.admin, { orgSlug: w.org.slug, subscriptionId: p.subscriptionId, paymentMethod: "pm_card_authenticationRequired" }, w.db);
      if (!r.ok || r.data.outcome !== "requires_action") throw new Error("setup: expected requires_action");
      return p;
    },
    input: (w, p) => ({ orgSlug: w.org.slug, subscriptionId: p.subscriptionId, outcome: "succeed" }),
    expect: ADMIN_ONLY_ON_OUR_PLAN,
  },
  subscriptionStatusAction: {
    prepare: unpaidSubscription,
    input: (w, p) => ({ orgSlug: w.org.slug, subscriptionId: p.subscriptionId }),
    // Reading: every member, and staff.
    expect: { anonymous: "unauthenticated", otherOrg: "not_found", otherOrgOwnSlug: "not_found", member: "ok", otherMember: "ok", admin: "ok", staff: "ok" },
  },
  previewPlanChangeAction: {
    prepare: activeSubscription,
    input: (w) => ({ orgSlug: w.org.slug, planKey: "scale", interval: "month" }),
    expect: ADMIN_ONLY_ON_OUR_PLAN,
  },
  changePlanAction: {
    prepare: activeSubscription,
    input: (w) => ({ orgSlug: w.org.slug, planKey: "scale", interval: "month", requestId: crypto.randomUUID() }),
    expect: ADMIN_ONLY_ON_OUR_PLAN,
  },
  cancelScheduledChangeAction: {
    prepare: async (w) => {
      const p = await activeSubscription(w);
      const r = await runOrgAction(changePlanDef, w.users.admin, { orgSlug: w.org.slug, planKey: "starter", interval: "month", requestId: crypto.randomUUID() }, w.db);
      if (!r.ok || r.data.kind !== "at_period_end") throw new Error("setup: expected a scheduled downgrade");
      return p;
    },
    input: (w) => ({ orgSlug: w.org.slug, requestId: crypto.randomUUID() }),
    expect: ADMIN_ONLY_ON_OUR_PLAN,
  },
  setPlanCancellationAction: {
    prepare: activeSubscription,
    input: (w) => ({ orgSlug: w.org.slug, choice: "cancel_at_period_end", requestId: crypto.randomUUID() }),
    expect: ADMIN_ONLY_ON_OUR_PLAN,
  },
  openBillingPortalAction: {
    prepare: activeSubscription,
    input: (w) => ({ orgSlug: w.org.slug, purpose: "fix_card" }),
    expect: ADMIN_ONLY_ON_OUR_PLAN,
  },
  quoteTopUpAction: {
    // With a coupon: applying coupons is for admins.
    input: (w) => ({ orgSlug: w.org.slug, packId: w.pack.id, couponCode: w.coupon.code }),
    expect: { anonymous: "unauthenticated", otherOrg: "not_found", otherOrgOwnSlug: "ok", member: "forbidden", otherMember: "forbidden", admin: "ok", staff: "not_found" },
  },
  // saveCard (setup_future_usage) is for admins; false is every member's.
  startTopUpAction: {
    input: (w) => ({ orgSlug: w.org.slug, packId: w.pack.id, requestId: crypto.randomUUID(), saveCard: false }),
    expect: { anonymous: "unauthenticated", otherOrg: "not_found", otherOrgOwnSlug: "ok", member: "ok", otherMember: "ok", admin: "ok", staff: "not_found" },
  },
  // The hosted checkout path: members may buy packs, as with the embedded form.
  startTopUpCheckoutAction: {
    input: (w) => ({ orgSlug: w.org.slug, packId: w.pack.id, requestId: crypto.randomUUID() }),
    expect: { anonymous: "unauthenticated", otherOrg: "not_found", otherOrgOwnSlug: "ok", member: "ok", otherMember: "ok", admin: "ok", staff: "not_found" },
  },
  confirmTestCardAction: {
    prepare: pendingPurchase,
    input: (w, p) => ({ orgSlug: w.org.slug, purchaseId: p.purchaseId, paymentMethod: "pm_card_visa" }),
    expect: { anonymous: "unauthenticated", otherOrg: "not_found", otherOrgOwnSlug: "not_found", member: "ok", otherMember: "forbidden", admin: "ok", staff: "not_found" },
  },
  authenticateTestPaymentAction: {
    prepare: async (w) => {
      const p = await pendingPurchase(w);
      const r = await runOrgAction(confirmTestCardDef, w.users.member, { orgSlug: w.org.slug, purchaseId: p.purchaseId, paymentMethod: "pm_card_authenticationRequired" }, w.db);
      if (!r.ok || r.data.outcome !== "requires_action") throw new Error("setup: expected requires_action");
      return p;
    },
    input: (w, p) => ({ orgSlug: w.org.slug, purchaseId: p.purchaseId, outcome: "succeed" }),
    expect: { anonymous: "unauthenticated", otherOrg: "not_found", otherOrgOwnSlug: "not_found", member: "ok", otherMember: "forbidden", admin: "ok", staff: "not_found" },
  },
  cancelTopUpAction: {
    prepare: pendingPurchase,
    input: (w, p) => ({ orgSlug: w.org.slug, purchaseId: p.purchaseId }),
    expect: { anonymous: "unauthenticated", otherOrg: "not_found", otherOrgOwnSlug: "not_found", member: "ok", otherMember: "forbidden", admin: "ok", staff: "not_found" },
  },
  purchaseStatusAction: {
    prepare: pendingPurchase,
    input: (w, p) => ({ orgSlug: w.org.slug, purchaseId: p.purchaseId }),
    // Reading: staff may read every organisation.
    expect: { anonymous: "unauthenticated", otherOrg: "not_found", otherOrgOwnSlug: "not_found", member: "ok", otherMember: "ok", admin: "ok", staff: "ok" },
  },
  // Staff console (lib/actions/staff-actions.ts).
  adjustCreditsAction: {
    input: (w) => ({ orgSlug: w.org.slug, kind: "bonus", amount: "100", reason: "goodwill gesture", requestId: crypto.randomUUID() }),
    expect: STAFF_ONLY,
    badInputActor: "staff",
  },
  createCouponAction: {
    input: () => ({ code: `NEW${crypto.randomUUID().slice(0, 8).toUpperCase()}`, discountType: "percent", percentOff: "15" }),
    expect: STAFF_ONLY,
    badInputActor: "staff",
  },
  deactivateCouponAction: {
    input: (w) => ({ couponId: w.coupon.id }),
    expect: STAFF_ONLY,
    badInputActor: "staff",
  },
  replayEventAction: {
    prepare: failedEvent,
    input: (_w, p) => ({ eventId: p.eventId }),
    expect: STAFF_ONLY,
    badInputActor: "staff",
  },
  resyncEventsAction: {
    input: () => ({ since: new Date(Date.now() - 3_600_000).toISOString() }),
    expect: STAFF_ONLY,
    badInputActor: "staff",
  },
  refundPurchaseAction: {
    prepare: succeededPurchase,
    input: (_w, p) => ({ purchaseId: p.purchaseId, amount: "100", reason: "customer asked", requestId: crypto.randomUUID() }),
    expect: STAFF_ONLY,
    badInputActor: "staff",
  },
  runReconciliationAction: {
    input: () => ({ mode: "report" }),
    expect: STAFF_ONLY,
    badInputActor: "staff",
  },
  recordDemoDeliveryAction: {
    // The campaigns page's demo button spends credits: admins only; another organisation's
    // campaign id is not found in the caller's own organisation.
    prepare: async (w) => {
      await fund(w.db, w.org.id, 1000);
      return { campaignId: (await makeActiveCampaign(w.db, w.org.id, 10)).id };
    },
    input: (w, p) => ({ orgSlug: w.org.slug, campaignId: p.campaignId, requestId: crypto.randomUUID() }),
    expect: { anonymous: "unauthenticated", otherOrg: "not_found", otherOrgOwnSlug: "not_found", member: "forbidden", otherMember: "forbidden", admin: "ok", staff: "not_found" },
  },
  createApiKeyAction: {
    input: (w) => ({ orgSlug: w.org.slug, name: "Platform CI" }),
    expect: { anonymous: "unauthenticated", otherOrg: "not_found", otherOrgOwnSlug: "ok", member: "forbidden", otherMember: "forbidden", admin: "ok", staff: "not_found" },
  },
  revokeApiKeyAction: {
    prepare: async (w) => ({ keyId: (await createApiKey(w.db, { orgId: w.org.id, name: "k", userId: w.users.admin!.id, mode: "test" })).apiKey.id }),
    input: (w, p) => ({ orgSlug: w.org.slug, keyId: p.keyId }),
    expect: { anonymous: "unauthenticated", otherOrg: "not_found", otherOrgOwnSlug: "not_found", member: "forbidden", otherMember: "forbidden", admin: "ok", staff: "not_found" },
  },
  setLowBalanceThresholdAction: {
    input: (w) => ({ orgSlug: w.org.slug, threshold: 100 }),
    expect: { anonymous: "unauthenticated", otherOrg: "not_found", otherOrgOwnSlug: "ok", member: "forbidden", otherMember: "forbidden", admin: "ok", staff: "not_found" },
  },
  saveCardAction: {
    input: (w) => ({ orgSlug: w.org.slug, requestId: crypto.randomUUID(), paymentMethod: "pm_card_visa" }),
    expect: { anonymous: "unauthenticated", otherOrg: "not_found", otherOrgOwnSlug: "ok", member: "forbidden", otherMember: "forbidden", admin: "ok", staff: "not_found" },
  },
  // Saving a card with Elements (real Stripe): admins only, like the test-card form.
  startCardSetupAction: {
    input: (w) => ({ orgSlug: w.org.slug, requestId: crypto.randomUUID() }),
    expect: { anonymous: "unauthenticated", otherOrg: "not_found", otherOrgOwnSlug: "ok", member: "forbidden", otherMember: "forbidden", admin: "ok", staff: "not_found" },
  },
  // Verifying a SetupIntent of our organisation (confirmed as Stripe.js would): another
  // organisation's admin, even naming their own organisation, finds nothing.
  verifyCardSetupAction: {
    prepare: async (w) => {
      const r = await runOrgAction(startCardSetupDef, w.users.admin, { orgSlug: w.org.slug, requestId: crypto.randomUUID() }, w.db);
      if (!r.ok) throw new Error(`setup: ${r.error}`);
      await stripe().setupIntents.confirm(r.data.setupIntentId, { payment_method: "pm_card_visa" });
      return { setupIntentId: r.data.setupIntentId };
    },
    input: (w, p) => ({ orgSlug: w.org.slug, setupIntentId: p.setupIntentId }),
    expect: { anonymous: "unauthenticated", otherOrg: "not_found", otherOrgOwnSlug: "not_found", member: "forbidden", otherMember: "forbidden", admin: "ok", staff: "not_found" },
  },
  setAutoRechargeAction: {
    prepare: async (w) => {
      await saveCard(w.db, { org: w.org, userId: w.users.admin!.id, requestId: crypto.randomUUID(), paymentMethod: "pm_card_visa" });
      return {};
    },
    input: (w) => ({ orgSlug: w.org.slug, enabled: true, threshold: 100, packId: w.pack.id }),
    // The other organisation has no saved card: turning auto-recharge on is refused there.
    expect: { anonymous: "unauthenticated", otherOrg: "not_found", otherOrgOwnSlug: "conflict", member: "forbidden", otherMember: "forbidden", admin: "ok", staff: "not_found" },
  },
};
