// The server actions' rows for the access matrix (and the valid inputs the bad-input tests
// start from): for every export of a "use server" module, how to build a valid input from a
// world of users, and the expected outcome for each kind of caller. See
// tests/integration/access-matrix.test.ts for how rows are used and how to add one.
import type { Db } from "@/db/client";
import type { SessionUser } from "@/lib/auth/access";
import { runOrgAction } from "@/lib/actions/org-action";
import type { ErrorCode } from "@/lib/errors";
import { confirmTestCardDef, startTopUpDef } from "@/lib/topups/actions";
import { makeCoupon, makeOrg, makePack, makeUser } from "./fixtures";

export const ACTORS = ["anonymous", "otherOrg", "otherOrgOwnSlug", "member", "otherMember", "admin", "staff"] as const;
export type Actor = (typeof ACTORS)[number];
export const ROUTE_ACTORS = ["anonymous", "otherOrg", "member", "admin", "staff"] as const;
export type RouteActor = (typeof ROUTE_ACTORS)[number];

export type World = Awaited<ReturnType<typeof makeWorld>>;
export type Prepared = { purchaseId?: string };

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

export type Outcome = "ok" | ErrorCode;
export type ActionRow = {
  prepare?: (w: World) => Promise<Prepared>;
  input: (w: World, p: Prepared) => Record<string, unknown>;
  expect: Record<Actor, Outcome>;
};

export const ACTION_TABLE: Record<string, ActionRow> = {
  quoteTopUpAction: {
    // With a coupon: applying coupons is for admins.
    input: (w) => ({ orgSlug: w.org.slug, packId: w.pack.id, couponCode: w.coupon.code }),
    expect: { anonymous: "unauthenticated", otherOrg: "not_found", otherOrgOwnSlug: "ok", member: "forbidden", otherMember: "forbidden", admin: "ok", staff: "not_found" },
  },
  startTopUpAction: {
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
};

