// Test clocks: create (frozen_time, name), retrieve, list, delete, advance. Customers created
// with `test_clock` live on its time, and so do their subscriptions and invoices. Advancing
// answers at once with status "advancing"; right after, everything due up to the target runs in
// time order (renewals, trial ends, finalizations, retries — each with its events), then the
// clock is "ready" at the target, as with Stripe (poll until ready). The advancing itself is done
// by the billing tick (emulator/billing/scheduler.ts), so it also completes after a restart.
import type Stripe from "stripe";
import { invalidInteger, invalidRequest, missing, parameterMissing } from "../errors";
import { int, str } from "../form";
import { newId } from "../ids";
import type { Json } from "../store";
import { emit, jsonItems, type BillingEnv } from "../billing/env";
import { BILLING_ACCEPTED } from "../billing/params";
import { listOf, type Ctx, type Route } from "./context";
import type { Wire } from "./wire";

const DELETES_AFTER = 30 * 24 * 60 * 60;

export function getTestClock(ctx: Pick<Ctx, "store">, id: string, param = "id"): Json {
  const tc = ctx.store.state.testClocks[id];
  if (!tc) throw missing("test_helpers.test_clock", id, param);
  return tc;
}

function envAt(ctx: Ctx, at: number): BillingEnv {
  return { store: ctx.store, clock: ctx.clock, outbox: ctx.outbox, scheduler: ctx.scheduler, req: ctx.req, at };
}

export const testClockRoutes: Route[] = [
  {
    method: "POST",
    pattern: /^\/v1\/test_helpers\/test_clocks$/,
    accepts: BILLING_ACCEPTED.testClockCreate,
    returns: "test_helpers.test_clock",
    handle: (ctx) => {
      const p = ctx.params;
      if (p.frozen_time === undefined) throw parameterMissing("frozen_time");
      const frozen = int(p.frozen_time);
      if (frozen === undefined || Number.isNaN(frozen)) throw invalidInteger("frozen_time", p.frozen_time);
      const clock = {
        id: newId("clock"),
        object: "test_helpers.test_clock",
        created: ctx.clock.now(),
        deletes_after: ctx.clock.now() + DELETES_AFTER,
        frozen_time: frozen,
        livemode: false,
        name: str(p.name) ?? null,
        status: "ready",
        status_details: {},
      } satisfies Wire<Stripe.TestHelpers.TestClock>;
      ctx.store.state.testClocks[clock.id] = clock;
      emit(envAt(ctx, ctx.clock.now()), "test_helpers.test_clock.created", clock);
      return { body: clock };
    },
  },
  { method: "GET", pattern: /^\/v1\/test_helpers\/test_clocks\/([^/]+)$/, accepts: BILLING_ACCEPTED.testClockRetrieve, returns: "test_helpers.test_clock", handle: (ctx, m) => ({ body: getTestClock(ctx, m[1]!) }) },
  {
    method: "GET",
    pattern: /^\/v1\/test_helpers\/test_clocks$/,
    accepts: BILLING_ACCEPTED.testClockList,
    returns: "list:test_helpers.test_clock",
    handle: (ctx) => ({ body: listOf("/v1/test_helpers/test_clocks", jsonItems(Object.values(ctx.store.state.testClocks).reverse()), ctx.params) }),
  },
  {
    method: "DELETE",
    pattern: /^\/v1\/test_helpers\/test_clocks\/([^/]+)$/,
    accepts: BILLING_ACCEPTED.testClockDelete,
    returns: "test_helpers.test_clock",
    handle: (ctx, m) => {
      const tc = getTestClock(ctx, m[1]!);
      delete ctx.store.state.testClocks[tc.id as string];
      emit(envAt(ctx, ctx.clock.now()), "test_helpers.test_clock.deleted", tc);
      return { body: { id: tc.id, object: "test_helpers.test_clock", deleted: true } };
    },
  },
  {
    method: "POST",
    pattern: /^\/v1\/test_helpers\/test_clocks\/([^/]+)\/advance$/,
    accepts: BILLING_ACCEPTED.testClockAdvance,
    returns: "test_helpers.test_clock",
    handle: (ctx, m) => {
      const tc = getTestClock(ctx, m[1]!);
      if (ctx.params.frozen_time === undefined) throw parameterMissing("frozen_time");
      const target = int(ctx.params.frozen_time);
      if (target === undefined || Number.isNaN(target)) throw invalidInteger("frozen_time", ctx.params.frozen_time);
      if (tc.status === "advancing") throw invalidRequest("The test clock is already advancing; wait until it is ready.", { code: "test_clock_advancing" });
      if (target <= Number(tc.frozen_time)) {
        throw invalidRequest("The frozen_time must be after the test clock's current frozen_time.", { param: "frozen_time" });
      }
      tc.status = "advancing";
      tc.status_details = { advancing: { target_frozen_time: target } };
      emit(envAt(ctx, Number(tc.frozen_time)), "test_helpers.test_clock.advancing", tc);
      // The response says "advancing"; the work runs right after this request (billing tick), so a
      // client polling sees "ready" with everything that fell due already done.
      const response = structuredClone(tc);
      return { body: response };
    },
  },
];
