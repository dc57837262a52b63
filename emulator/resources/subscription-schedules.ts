// Subscription schedules, the part a plan change at period end needs: create `from_subscription`
// (one phase: the current items until the current period's end), update its `phases` (items,
// start/end dates or `duration`, proration_behavior) and `end_behavior` (release / cancel),
// retrieve, list, release, cancel. When a phase ends, the next one's items are applied to the
// subscription (through the subscription update endpoint, proration_behavior of the phase,
// default none at a period boundary) *before* the renewal at the same instant, so the renewal
// invoice bills the new plan; after the last phase the schedule is released (the subscription
// carries on) or completed (the subscription is canceled). Not emulated: schedules that create
// a subscription (customer + phases), trials and invoice items in phases, pause schedules.
import type Stripe from "stripe";
import { invalidRequest, missing, parameterMissing } from "../errors";
import { int, metadata, str } from "../form";
import { newId } from "../ids";
import type { Json, Store } from "../store";
import { changedFields, emit, emitJson, envFromCtx, jsonItems, type BillingDeps, type BillingEnv } from "../billing/env";
import { endSubscription } from "../billing/invoicing";
import { currentPeriod, items, recurringOf } from "../billing/lifecycle";
import { BILLING_ACCEPTED } from "../billing/params";
import { addInterval, type Interval } from "../billing/periods";
import { listOf, type Ctx, type Route } from "./context";
import { subscriptionRoutes } from "./subscriptions";
import type { Wire } from "./wire";

export function getSchedule(ctx: Pick<Ctx, "store">, id: string): Json {
  const s = ctx.store.state.subscriptionSchedules[id];
  if (!s) throw missing("subscription_schedule", id);
  return s;
}

const notEmulated = (what: string) => invalidRequest(`${what} is not supported by the Stripe emulator.`, { code: "emulator_unsupported" });

function phaseJson(currency: string, specs: { price: Json; quantity: number }[], start: number, end: number, proration: string): Json {
  return {
    add_invoice_items: [],
    application_fee_percent: null,
    billing_cycle_anchor: null,
    billing_thresholds: null,
    collection_method: null,
    currency,
    default_payment_method: null,
    description: null,
    discounts: [],
    end_date: end,
    invoice_settings: null,
    items: specs.map((s) => ({ billing_thresholds: null, discounts: [], metadata: {}, plan: s.price.id as string, price: s.price.id as string, quantity: s.quantity })),
    metadata: {},
    on_behalf_of: null,
    proration_behavior: proration,
    start_date: start,
    transfer_data: null,
    trial_end: null,
  } satisfies Wire<Stripe.SubscriptionSchedule.Phase>;
}

/** Calls the emulator's own subscription update, so a phase change behaves exactly like the API. */
function updateSubscription(deps: BillingDeps, id: string, params: Record<string, unknown>): void {
  const route = subscriptionRoutes.find((r) => r.method === "POST" && r.pattern.source === /^\/v1\/subscriptions\/([^/]+)$/.source)!;
  const path = `/v1/subscriptions/${id}`;
  route.handle({ ...deps, req: null, params }, path.match(route.pattern)!);
}

function setCurrentPhase(schedule: Json, at: number): void {
  const phases = schedule.phases as Json[];
  const current = phases.find((p) => Number(p.start_date) <= at && at < Number(p.end_date));
  schedule.current_phase = current ? { start_date: current.start_date, end_date: current.end_date } : null;
}

function parsePhases(ctx: Ctx, schedule: Json, sub: Json, raw: unknown, at: number): Json[] {
  const list = (Array.isArray(raw) ? raw : Object.values(raw as object)) as Json[];
  if (list.length === 0) throw invalidRequest("At least one phase is required.", { param: "phases" });
  const first = (schedule.phases as Json[])[0]!;
  let start = Number(first.start_date);
  return list.map((p, i) => {
    if (p.trial !== undefined || p.trial_end !== undefined || p.add_invoice_items !== undefined) throw notEmulated("Trials and invoice items in schedule phases");
    const rawItems = p.items === undefined ? undefined : ((Array.isArray(p.items) ? p.items : Object.values(p.items as object)) as Json[]);
    if (!rawItems || rawItems.length === 0) throw parameterMissing(`phases[${i}][items]`);
    const specs = rawItems.map((it, j) => {
      const priceId = str(it.price) ?? str(it.plan);
      if (!priceId) throw parameterMissing(`phases[${i}][items][${j}][price]`);
      const price = ctx.store.state.prices[priceId];
      if (!price) throw missing("price", priceId, `phases[${i}][items][${j}][price]`);
      recurringOf(price);
      if (price.currency !== sub.currency) throw invalidRequest(`The price ${priceId} does not have a ${sub.currency} currency.`, { param: `phases[${i}][items][${j}][price]` });
      return { price, quantity: it.quantity === undefined ? 1 : Number(it.quantity) };
    });
    if (p.start_date !== undefined) {
      const s = p.start_date === "now" ? at : int(p.start_date);
      if (s === undefined || Number.isNaN(s)) throw invalidRequest(`Invalid phases[${i}][start_date]`, { param: `phases[${i}][start_date]` });
      start = s;
    }
    let end: number;
    const duration = p.duration as Json | undefined;
    if (p.end_date !== undefined) {
      const e = p.end_date === "now" ? at : int(p.end_date);
      if (e === undefined || Number.isNaN(e)) throw invalidRequest(`Invalid phases[${i}][end_date]`, { param: `phases[${i}][end_date]` });
      end = e;
    } else if (duration) {
      end = addInterval(start, str(duration.interval) as Interval, duration.interval_count === undefined ? 1 : Number(duration.interval_count));
    } else {
      const { interval, count } = recurringOf(specs[0]!.price);
      end = addInterval(start, interval, count); // one iteration
    }
    if (end <= start) throw invalidRequest(`phases[${i}][end_date] must be after its start_date.`, { param: `phases[${i}][end_date]` });
    const phase = phaseJson(sub.currency as string, specs, start, end, str(p.proration_behavior) ?? str(schedule.default_proration) ?? "create_prorations");
    start = end;
    return phase;
  });
}

/** Applies the phase that starts now to the subscription, or ends the schedule after its last phase. */
export function phaseEnded(env: BillingEnv, schedule: Json): void {
  const deps: BillingDeps = { store: env.store, clock: env.clock, outbox: env.outbox, scheduler: env.scheduler };
  const sub = env.store.state.subscriptions[schedule.subscription as string];
  const before = structuredClone(schedule);
  const next = (schedule.phases as Json[]).find((p) => Number(p.start_date) === env.at || (Number(p.start_date) <= env.at && env.at < Number(p.end_date)));
  if (sub && next && sub.status !== "canceled") {
    const specs = (next.items as Json[]).map((it) => ({ price: it.price, quantity: it.quantity }));
    const current = items(sub).map((it) => ({ price: (it.price as Json).id, quantity: it.quantity }));
    if (JSON.stringify(specs) !== JSON.stringify(current)) {
      const atBoundary = currentPeriod(sub).end === env.at;
      const itemsParam = [
        ...items(sub).map((it, i) => (specs[i] ? { id: it.id, price: specs[i]!.price, quantity: String(specs[i]!.quantity) } : { id: it.id, deleted: "true" })),
        ...specs.slice(items(sub).length).map((s) => ({ price: s.price, quantity: String(s.quantity) })),
      ];
      updateSubscription(deps, sub.id as string, { items: itemsParam, proration_behavior: atBoundary ? "none" : next.proration_behavior });
    }
    setCurrentPhase(schedule, env.at);
    emit(env, "subscription_schedule.updated", schedule, changedFields(before, schedule));
    return;
  }
  // After the last phase.
  if (schedule.end_behavior === "cancel" && sub) {
    Object.assign(schedule, { status: "completed", completed_at: env.at, current_phase: null });
    endSubscription(env, sub, "cancellation_requested");
    emit(env, "subscription_schedule.completed", schedule);
    return;
  }
  release(env, schedule);
}

function release(env: BillingEnv, schedule: Json): void {
  const sub = env.store.state.subscriptions[schedule.subscription as string];
  Object.assign(schedule, { status: "released", released_at: env.at, released_subscription: schedule.subscription, subscription: null, current_phase: null });
  emit(env, "subscription_schedule.released", schedule);
  if (sub && sub.schedule === schedule.id) {
    const before = structuredClone(sub);
    sub.schedule = null;
    emit(env, "customer.subscription.updated", sub, changedFields(before, sub));
  }
}

/** The items a subscription's schedule puts in force at `at` (a phase starting then), or null. */
export function scheduledItems(store: Store, sub: Json, at: number): { price: Json; quantity: number }[] | null {
  const schedule = sub.schedule ? store.state.subscriptionSchedules[sub.schedule as string] : undefined;
  if (!schedule || schedule.status !== "active") return null;
  const phase = (schedule.phases as Json[]).find((p) => Number(p.start_date) === at);
  if (!phase) return null;
  return (phase.items as Json[]).map((it) => ({ price: store.state.prices[it.price as string]!, quantity: Number(it.quantity ?? 1) }));
}

/** When the schedule's current phase ends (for the billing scheduler), or null. */
export function nextPhaseChange(schedule: Json): number | null {
  if (schedule.status !== "active") return null;
  const cp = schedule.current_phase as Json | null;
  return cp ? Number(cp.end_date) : null;
}

export const subscriptionScheduleRoutes: Route[] = [
  {
    method: "POST",
    pattern: /^\/v1\/subscription_schedules$/,
    accepts: BILLING_ACCEPTED.scheduleCreate,
    returns: "subscription_schedule",
    handle: (ctx) => {
      const p = ctx.params;
      const subId = str(p.from_subscription);
      if (!subId) throw notEmulated("A schedule without from_subscription");
      const sub = ctx.store.state.subscriptions[subId];
      if (!sub) throw missing("subscription", subId, "from_subscription");
      if (sub.schedule) throw invalidRequest(`The subscription is already attached to a schedule (${sub.schedule}).`, { param: "from_subscription" });
      if (!["active", "trialing", "past_due"].includes(sub.status as string)) throw invalidRequest(`You cannot create a schedule from a subscription with status ${sub.status}.`, { param: "from_subscription" });
      const env = envFromCtx(ctx, sub.test_clock as string | null);
      const { start, end } = currentPeriod(sub);
      const specs = items(sub).map((it) => ({ price: it.price as Json, quantity: Number(it.quantity) }));
      const schedule = {
        id: newId("sub_sched"),
        object: "subscription_schedule",
        application: null,
        billing_mode: { type: "classic", flexible: null },
        canceled_at: null as number | null,
        completed_at: null as number | null,
        created: env.at,
        current_phase: { start_date: start, end_date: end } as Json | null,
        customer: sub.customer as string,
        customer_account: null,
        default_settings: {
          application_fee_percent: null,
          billing_cycle_anchor: "automatic",
          billing_thresholds: null,
          collection_method: "charge_automatically",
          default_payment_method: null,
          description: null,
          invoice_settings: { account_tax_ids: null, custom_fields: null, days_until_due: null, description: null, footer: null, issuer: { type: "self" } },
          on_behalf_of: null,
          transfer_data: null,
        },
        end_behavior: "release",
        livemode: false,
        metadata: metadata(p.metadata),
        pause_schedules: [],
        phases: [phaseJson(sub.currency as string, specs, start, end, "create_prorations")] as Json[],
        released_at: null as number | null,
        released_subscription: null as string | null,
        status: "active",
        subscription: sub.id as string,
        test_clock: (sub.test_clock as string | null) ?? null,
      } satisfies Omit<Wire<Stripe.SubscriptionSchedule>, "current_phase" | "phases"> & { current_phase: Json | null; phases: Json[] };
      ctx.store.state.subscriptionSchedules[schedule.id] = schedule;
      emit(env, "subscription_schedule.created", schedule);
      const before = structuredClone(sub);
      sub.schedule = schedule.id;
      emit(env, "customer.subscription.updated", sub, changedFields(before, sub));
      return { body: schedule };
    },
  },
  {
    method: "GET",
    pattern: /^\/v1\/subscription_schedules\/([^/]+)$/,
    accepts: BILLING_ACCEPTED.scheduleRetrieve,
    returns: "subscription_schedule",
    handle: (ctx, m) => ({ body: getSchedule(ctx, m[1]!) }),
  },
  {
    method: "POST",
    pattern: /^\/v1\/subscription_schedules\/([^/]+)$/,
    accepts: BILLING_ACCEPTED.scheduleUpdate,
    returns: "subscription_schedule",
    handle: (ctx, m) => {
      const schedule = getSchedule(ctx, m[1]!);
      if (schedule.status !== "active" && schedule.status !== "not_started") throw invalidRequest(`You cannot update a subscription schedule that is ${schedule.status}.`);
      const sub = ctx.store.state.subscriptions[schedule.subscription as string]!;
      const env = envFromCtx(ctx, sub.test_clock as string | null);
      const p = ctx.params;
      const before = structuredClone(schedule);
      if (p.end_behavior !== undefined) {
        const eb = str(p.end_behavior);
        if (eb !== "release" && eb !== "cancel") throw notEmulated(`end_behavior=${eb}`);
        schedule.end_behavior = eb;
      }
      if (p.proration_behavior !== undefined) schedule.default_proration = str(p.proration_behavior);
      if (p.metadata !== undefined) schedule.metadata = metadata(p.metadata, (schedule.metadata as Record<string, string>) ?? {});
      if (p.phases !== undefined) {
        schedule.phases = parsePhases(ctx, schedule, sub, p.phases, env.at);
        setCurrentPhase(schedule, env.at);
      }
      delete schedule.default_proration;
      emitJson(ctx.outbox, "subscription_schedule.updated", schedule, ctx.req, changedFields(before, schedule));
      // The phase in force now applies at once (as Stripe applies an edited current phase).
      const current = (schedule.phases as Json[]).find((ph) => Number(ph.start_date) <= env.at && env.at < Number(ph.end_date));
      if (current) {
        const specs = (current.items as Json[]).map((it) => ({ price: it.price, quantity: it.quantity }));
        const now = items(sub).map((it) => ({ price: (it.price as Json).id, quantity: it.quantity }));
        if (JSON.stringify(specs) !== JSON.stringify(now)) phaseEnded({ ...env, req: ctx.req }, schedule);
      }
      return { body: schedule };
    },
  },
  {
    method: "POST",
    pattern: /^\/v1\/subscription_schedules\/([^/]+)\/release$/,
    accepts: BILLING_ACCEPTED.scheduleRelease,
    returns: "subscription_schedule",
    handle: (ctx, m) => {
      const schedule = getSchedule(ctx, m[1]!);
      if (schedule.status !== "active" && schedule.status !== "not_started") throw invalidRequest(`You cannot release a subscription schedule that is ${schedule.status}.`);
      const sub = ctx.store.state.subscriptions[schedule.subscription as string];
      release(envFromCtx(ctx, (sub?.test_clock as string | null) ?? null), schedule);
      return { body: schedule };
    },
  },
  {
    method: "POST",
    pattern: /^\/v1\/subscription_schedules\/([^/]+)\/cancel$/,
    accepts: BILLING_ACCEPTED.scheduleCancel,
    returns: "subscription_schedule",
    handle: (ctx, m) => {
      const schedule = getSchedule(ctx, m[1]!);
      if (schedule.status !== "active" && schedule.status !== "not_started") throw invalidRequest(`You cannot cancel a subscription schedule that is ${schedule.status}.`);
      const sub = ctx.store.state.subscriptions[schedule.subscription as string];
      const env = envFromCtx(ctx, (sub?.test_clock as string | null) ?? null);
      Object.assign(schedule, { status: "canceled", canceled_at: env.at, current_phase: null });
      if (sub) endSubscription(env, sub, "cancellation_requested");
      emit(env, "subscription_schedule.canceled", schedule);
      return { body: schedule };
    },
  },
  {
    method: "GET",
    pattern: /^\/v1\/subscription_schedules$/,
    accepts: BILLING_ACCEPTED.scheduleList,
    returns: "list:subscription_schedule",
    handle: (ctx) => {
      let all = Object.values(ctx.store.state.subscriptionSchedules).reverse();
      if (typeof ctx.params.customer === "string") all = all.filter((s) => s.customer === ctx.params.customer);
      return { body: listOf("/v1/subscription_schedules", jsonItems(all), ctx.params) };
    },
  },
];
