// The access matrix: every server action (every export of a "use server" module) and every route
// handler (every HTTP-method export of app/**/route.ts), found by scanning the code, is called as
// each kind of caller, and the outcome is compared with the table below. When a call is refused,
// nothing may have changed: no row of any table in the database (a fingerprint of every row of
// every table), no PaymentIntent at Stripe.
//
// Adding an action or a route without a row here fails "every … has a row"; a row whose code is
// gone fails too. To add a row: for an action, add an entry to ACTION_TABLE in
// tests/support/action-table.ts named after the export, with `input` (a valid input built from the
// world), `prepare` if the action needs state (a purchase…), and the expected outcome for every
// caller: "ok" or the ActionResult error code. For a route, add an entry to ROUTE_TABLE below
// keyed `METHOD /path` with `call` (the Request and, for dynamic segments, the context), the HTTP
// status for every caller and, if a refused call may still write a table, `mayWrite`.
//
// Callers: anonymous (no session); otherOrg (admin of another organisation, naming ours);
// otherOrgOwnSlug (the same person naming their own organisation but our ids); member (of ours,
// who started the purchase the purchase actions act on); otherMember (another member of ours);
// admin of ours; staff (platform staff, no membership).
import { beforeEach, describe, expect, it, vi } from "vitest";
import { NextRequest } from "next/server";
import { encode } from "next-auth/jwt";
import type { SessionUser } from "@/lib/auth/access";
import { stripe } from "@/lib/stripe/client";
import { ACTION_TABLE, ACTORS, makeWorld, ROUTE_ACTORS, type RouteActor, type World } from "../support/action-table";
import { useTestDatabase } from "../support/context";
import { changedTables, dbFingerprint } from "../support/db-fingerprint";
import { discoverEndpoints, inlineServerActionFiles } from "../support/endpoints";
import { credentialsRequest, nextauthContext } from "../support/next-auth";
import { inRequestScope } from "../support/request-scope";
import { makeActiveCampaign } from "../support/deliveries";

// Server actions take the user from currentUser(); the test decides who that is.
const session = vi.hoisted(() => ({ user: null as SessionUser | null }));
vi.mock("@/lib/auth/session", () => ({
  currentUser: async () => session.user,
  requireUser: async () => {
    if (!session.user) throw new Error("NEXT_REDIRECT /signin");
    return session.user;
  },
}));

const { db } = useTestDatabase();
beforeEach(() => {
  session.user = null;
});

type RouteCall = { request: Request; context?: unknown };
type RouteRow = {
  call: (w: World, actor: RouteActor, cookie: string) => Promise<RouteCall>;
  expect: Record<RouteActor, number>;
  /** Tables a refused call may still write (e.g. the sign-in throttle's record of a failure). */
  mayWrite?: string[];
};

const BASE = process.env.NEXTAUTH_URL ?? "http://localhost:3000";
const allActors = (status: number): Record<RouteActor, number> => ({ anonymous: status, otherOrg: status, member: status, admin: status, staff: status });

const ROUTE_TABLE: Record<string, RouteRow> = {
  "GET /orgs/[slug]/billing/transactions/export": {
    // The ledger as CSV: the organisation's admins only (members 403; others, staff included, 404).
    call: async (w, _a, cookie) => ({
      request: new Request(`${BASE}/orgs/${w.org.slug}/billing/transactions/export`, { headers: { cookie } }),
      context: { params: Promise.resolve({ slug: w.org.slug }) },
    }),
    expect: { anonymous: 401, otherOrg: 404, member: 403, admin: 200, staff: 404 },
  },
  "POST /api/v1/campaigns/[campaignId]/deliveries": {
    // The delivery API takes an organisation API key, never a session: every caller without a
    // key is refused, whoever the cookie says they are (keys: tests/integration/deliveries.test.ts).
    call: async (w, _a, cookie) => {
      const campaign = await makeActiveCampaign(w.db, w.org.id, 10);
      return {
        request: new Request(`${BASE}/api/v1/campaigns/${campaign.id}/deliveries`, {
          method: "POST",
          headers: { cookie, "content-type": "application/json", "idempotency-key": crypto.randomUUID() },
          body: "{}",
        }),
        context: { params: Promise.resolve({ campaignId: campaign.id }) },
      };
    },
    expect: allActors(401),
  },
  "GET /api/health": {
    call: async (_w, _a, cookie) => ({ request: new Request(`${BASE}/api/health`, { headers: { cookie } }) }),
    expect: allActors(200),
  },
  "POST /api/stripe/webhook": {
    // A well-formed event without a Stripe signature: a session is no substitute for one.
    call: async (w, _a, cookie) => ({
      request: new Request(`${BASE}/api/stripe/webhook`, {
        method: "POST",
        headers: { cookie, "content-type": "application/json" },
        body: JSON.stringify({ id: "evt_forged", object: "event", type: "payment_intent.succeeded", livemode: false, created: 1, data: { object: { id: "pi_x", metadata: { orgId: w.org.id } } } }),
      }),
    }),
    expect: allActors(400),
  },
  "GET /api/auth/[...nextauth]": {
    // The session endpoint answers for whoever holds the cookie, and changes nothing.
    call: async (_w, _a, cookie) => ({ request: new NextRequest(`${BASE}/api/auth/session`, { headers: { cookie } }), context: nextauthContext("session") }),
    expect: allActors(200),
  },
  "POST /api/auth/[...nextauth]": {
    // A credentials sign-in with a wrong password for the caller's own email: refused for all.
    call: async (w, actor, cookie) => ({
      request: await credentialsRequest({ email: w.users[actor]?.email ?? "nobody@example.test", password: "not-the-password", forwardedFor: "203.0.113.77", cookie }),
      context: nextauthContext("callback", "credentials"),
    }),
    expect: allActors(401),
    mayWrite: ["sign_in_attempts"],
  },
};

const discovered = await discoverEndpoints();

async function callRoute(key: string, call: RouteCall): Promise<Response> {
  const route = discovered.routes.get(key);
  if (!route) throw new Error(`no route ${key}`);
  return inRequestScope(call.request, () => route.fn(call.request, call.context ?? { params: Promise.resolve({}) }));
}

async function sessionCookie(user: SessionUser | null): Promise<string> {
  if (!user) return "";
  const token = await encode({ token: { uid: user.id, email: user.email, name: user.name, sub: user.id }, secret: process.env.NEXTAUTH_SECRET! });
  return `next-auth.session-token=${token}`;
}

/** PaymentIntents and subscriptions at the emulator: what a refused call must not change at Stripe. */
async function stripeState() {
  const list = await stripe().paymentIntents.list({ limit: 100 });
  const subs = await stripe().subscriptions.list({ status: "all", limit: 100 });
  return [
    ...list.data.map((pi) => `${pi.id}:${pi.status}:${pi.amount}`),
    ...subs.data.map((s) => `${s.id}:${s.status}:${s.items.data.map((i) => i.price.id).join("+")}:${s.cancel_at_period_end}:${typeof s.schedule === "string" ? s.schedule : (s.schedule?.id ?? "")}`),
  ].sort();
}

describe("access matrix", () => {
  it("every server action in the code has a row, and every row an action", () => {
    expect(discovered.duplicateActionNames).toEqual([]);
    expect([...discovered.actions.keys()].sort()).toEqual(Object.keys(ACTION_TABLE).sort());
  });

  it("every route handler in the code has a row, and every row a handler", () => {
    expect([...discovered.routes.keys()].sort()).toEqual(Object.keys(ROUTE_TABLE).sort());
  });

  it("no server action is declared inline (they could not be enumerated)", () => {
    expect(inlineServerActionFiles()).toEqual([]);
  });

  const actionCases = Object.entries(ACTION_TABLE).flatMap(([name, row]) => ACTORS.map((actor) => [name, actor, row.expect[actor]] as const));
  it.each(actionCases)("action %s as %s → %s", async (name, actor, expected) => {
    const action = discovered.actions.get(name);
    expect(action, `${name} is in the table but not in the code`).toBeDefined();
    const row = ACTION_TABLE[name]!;
    const w = await makeWorld(db);
    const prepared = row.prepare ? await row.prepare(w) : {};
    const input = row.input(w, prepared);
    if (actor === "otherOrgOwnSlug") input.orgSlug = w.other.slug;

    const before = await dbFingerprint(db);
    const stripeBefore = await stripeState();
    session.user = w.users[actor];
    const result = (await action!.fn(input)) as { ok: boolean; code?: string; error?: string };
    session.user = null;

    expect(result.ok ? "ok" : result.code, result.ok ? undefined : result.error).toBe(expected);
    if (expected !== "ok") {
      expect(changedTables(before, await dbFingerprint(db))).toEqual([]);
      expect(await stripeState()).toEqual(stripeBefore);
    }
  });

  const routeCases = Object.entries(ROUTE_TABLE).flatMap(([key, row]) => ROUTE_ACTORS.map((actor) => [key, actor, row.expect[actor]] as const));
  it.each(routeCases)("route %s as %s → %i", async (key, actor, expected) => {
    expect(discovered.routes.get(key), `${key} is in the table but not in the code`).toBeDefined();
    const row = ROUTE_TABLE[key]!;
    const w = await makeWorld(db);
    const user = w.users[actor];
    const call = await row.call(w, actor, await sessionCookie(user));
    const before = await dbFingerprint(db, { except: row.mayWrite });
    const stripeBefore = await stripeState();
    session.user = user;
    const res = await callRoute(key, call);
    session.user = null;

    expect(res.status).toBe(expected);
    if (expected >= 400) {
      expect(changedTables(before, await dbFingerprint(db, { except: row.mayWrite }))).toEqual([]);
      expect(await stripeState()).toEqual(stripeBefore);
    }
    if (key === "GET /api/auth/[...nextauth]") {
      // The cookie is the actor: the session names exactly that user, or nobody.
      const body = (await res.json()) as { user?: { email?: string } };
      expect(body.user?.email).toBe(user?.email);
    }
  });
});
