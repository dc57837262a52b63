// What billing code runs with: the store, the emulator clock and outbox, the time "now" in the
// scope of the objects concerned (their test clock's frozen time, else the emulator clock), and
// the API request that caused the work (null for automatic work: renewals, retries, trial ends).
// Every event emitted through here carries that time as `created`; automatic events carry no
// request, as Stripe's do.
import type Stripe from "stripe";
import type { Clock } from "../clock";
import { ApiError } from "../errors";
import type { Outbox, RequestInfo } from "../events/outbox";
import type { Params } from "../form";
import type { Ctx } from "../resources/context";
import { paymentIntentRoutes } from "../resources/payment-intents";
import type { Scheduler } from "../scheduler";
import type { Json, Store } from "../store";

export type BillingDeps = { store: Store; clock: Clock; outbox: Outbox; scheduler: Scheduler };
export type BillingEnv = BillingDeps & { req: RequestInfo | null; at: number };

/** Stored Stripe objects of the payments side, as the plain JSON billing code handles. */
export function customerJson(store: Store, id: string): Json | undefined {
  return store.state.customers[id] as unknown as Json | undefined;
}
export function paymentIntentJson(store: Store, id: string): Json | undefined {
  return store.state.paymentIntents[id] as unknown as Json | undefined;
}

/** outbox.emit for billing's JSON objects (their types are checked where they are built). */
export function emitJson(outbox: Outbox, type: string, object: Json, req: RequestInfo | null, previous?: Json): Stripe.Event {
  return (outbox.emit as unknown as (t: string, o: Json, r: RequestInfo | null, p?: Json) => Stripe.Event)(type, object, req, previous);
}

/** listOf for billing's JSON objects. */
export function jsonItems(items: Json[]): (Json & { id: string })[] {
  return items as (Json & { id: string })[];
}

/** The base URL pages are served from (set by the server once it listens). */
const publicUrls = new WeakMap<Store, string>();
export function setPublicUrl(store: Store, url: string): void {
  publicUrls.set(store, url);
}
export function publicUrl(env: { store: Store }): string {
  return publicUrls.get(env.store) ?? "http://127.0.0.1:12111";
}

/** "Now" for objects on this test clock (frozen time), or on the emulator clock when null. */
export function nowIn(store: Store, clock: Clock, testClock: string | null | undefined): number {
  if (testClock) {
    const tc = store.state.testClocks[testClock];
    if (tc) return Number(tc.frozen_time);
  }
  return clock.now();
}

export function envFromCtx(ctx: Ctx, testClock: string | null | undefined): BillingEnv {
  return { store: ctx.store, clock: ctx.clock, outbox: ctx.outbox, scheduler: ctx.scheduler, req: ctx.req, at: nowIn(ctx.store, ctx.clock, testClock) };
}

/** Runs fn, then stamps every event it emitted with env.at (and no request when automatic). */
export function stamped<T>(env: BillingEnv, fn: () => T): T {
  const events = env.store.state.events;
  const from = events.length;
  try {
    return fn();
  } finally {
    for (let i = from; i < events.length; i++) {
      const e = events[i]!;
      e.created = env.at;
      if (!env.req) e.request = { id: null, idempotency_key: null };
    }
  }
}

export function emit(env: BillingEnv, type: string, object: Json, previous?: Json): void {
  stamped(env, () => emitJson(env.outbox, type, object, env.req, previous));
}

/** Top-level fields whose value changed since `before` (Stripe's data.previous_attributes). */
export function changedFields(before: Json, after: Json): Json {
  const previous: Json = {};
  for (const k of Object.keys(after)) {
    if (JSON.stringify(before[k]) !== JSON.stringify(after[k])) previous[k] = before[k] === undefined ? null : structuredClone(before[k]);
  }
  return previous;
}

/** customer.subscription.updated-style event, only when something changed. */
export function emitUpdated(env: BillingEnv, type: string, object: Json, before: Json): void {
  const previous = changedFields(before, object);
  if (Object.keys(previous).length > 0) emit(env, type, object, previous);
}

/**
 * Calls one of the emulator's own PaymentIntent endpoints (the same code a client reaches), so
 * invoice payments behave exactly like API payments. Returns the body, or the ApiError it raised.
 */
export function callPaymentIntents(env: BillingEnv, method: "GET" | "POST", path: string, params: Params): { body?: Json; error?: ApiError } {
  const route = paymentIntentRoutes.find((r) => r.method === method && r.pattern.test(path));
  if (!route) throw new Error(`no emulator route for ${method} ${path}`);
  const ctx: Ctx = { store: env.store, clock: env.clock, outbox: env.outbox, scheduler: env.scheduler, req: env.req, params };
  return stamped(env, () => {
    try {
      return { body: route.handle(ctx, path.match(route.pattern)!).body as Json };
    } catch (e) {
      if (e instanceof ApiError) return { error: e };
      throw e;
    }
  });
}
