// Runs what falls due on a clock, in time order: trial_will_end (3 days before a trial ends),
// invoice.upcoming (settings.upcomingDays before a renewal), trial ends and renewals (or the end of
// a subscription set to cancel), drafts finalized and charged, retries of failed payments, and
// incomplete subscriptions expiring after 23 hours. A scope is one test clock (its frozen time
// moves forward step by step while it advances) or the emulator clock (objects without a test
// clock; run after every request, on a timer, and after /_emulator/clock/advance). Also settles
// invoices whose PaymentIntent was paid or declined by the customer. Each step is recomputed from
// the objects, so running twice does nothing twice.
import type { Json, Store } from "../store";
import { changedFields, customerJson, emit, emitUpdated, type BillingDeps, type BillingEnv } from "./env";
import { attemptPayment, buildInvoice, finalizeInvoice, publicInvoice, invoicePaymentIntentId, periodLine, reconcileInvoice, subscriptionMeta, voidInvoice } from "./invoicing";
import { currentPeriod, items, periodEnded, recurringOf } from "./lifecycle";
import { periodEnd, SECONDS_PER_DAY } from "./periods";
import { refreshUsageLines } from "./metering";
import { nextPhaseChange, phaseEnded, scheduledItems } from "../resources/subscription-schedules";

type Deps = BillingDeps;
type Step = { at: number; order: number; run: (env: BillingEnv) => void };

const INCOMPLETE_EXPIRES_AFTER = 23 * 60 * 60;
const TRIAL_WILL_END_BEFORE = 3 * SECONDS_PER_DAY;
const LIVE = new Set(["trialing", "active", "past_due", "unpaid"]);

function inScope(obj: Json, scope: string | null): boolean {
  return ((obj.test_clock as string | null) ?? null) === scope;
}

/** The earliest step due in this scope (ties: creation order), or null. */
function nextStep(store: Store, scope: string | null): Step | null {
  const steps: Step[] = [];
  const s = store.state;
  const { upcomingDays } = s.billing.settings;
  let order = 0;
  for (const sub of Object.values(s.subscriptions)) {
    order++;
    if (!inScope(sub, scope)) continue;
    const meta = subscriptionMeta(store, sub.id as string);
    if (sub.status === "incomplete") {
      steps.push({ at: Number(sub.created) + INCOMPLETE_EXPIRES_AFTER, order, run: (env) => expire(env, sub) });
      continue;
    }
    if (!LIVE.has(sub.status as string)) continue;
    const pending = sub.pending_update as Json | null;
    if (pending) steps.push({ at: Number(pending.expires_at), order, run: (env) => expirePendingUpdate(env, sub) });
    if (sub.status === "trialing") {
      const trialEnd = Number(sub.trial_end);
      if (meta.trialWillEndSentFor !== trialEnd && trialEnd - TRIAL_WILL_END_BEFORE > Number(sub.trial_start)) {
        steps.push({
          at: trialEnd - TRIAL_WILL_END_BEFORE,
          order,
          run: (env) => {
            meta.trialWillEndSentFor = trialEnd;
            emit(env, "customer.subscription.trial_will_end", sub);
          },
        });
      }
    }
    // The current period (the trial, while trialing) ends: invoice.upcoming before, renewal at the end.
    const { start, end } = currentPeriod(sub);
    const upcomingAt = end - upcomingDays * SECONDS_PER_DAY;
    if (!sub.cancel_at_period_end && meta.upcomingSentFor !== end && upcomingAt > start) {
      steps.push({
        at: upcomingAt,
        order,
        run: (env) => {
          meta.upcomingSentFor = end;
          emit(env, "invoice.upcoming", upcomingInvoice(env, sub));
        },
      });
    }
    steps.push({ at: end, order, run: (env) => periodEnded(env, sub) });
  }
  // A schedule's phase change comes first at its instant, so a renewal then bills the new phase.
  for (const schedule of Object.values(s.subscriptionSchedules)) {
    if (!inScope(schedule, scope)) continue;
    const at = nextPhaseChange(schedule);
    if (at !== null) steps.push({ at, order: -1, run: (env) => phaseEnded(env, schedule) });
  }
  for (const inv of Object.values(s.invoices)) {
    order++;
    if (!inScope(inv, scope)) continue;
    if (inv.status === "draft" && typeof inv.automatically_finalizes_at === "number") {
      steps.push({
        at: inv.automatically_finalizes_at,
        order,
        run: (env) => {
          refreshUsageLines(env.store, inv); // usage reported during the grace hour counts
          finalizeInvoice(env, inv);
          if (inv.status === "open") attemptPayment(env, inv);
        },
      });
    }
    if (inv.status === "open" && typeof inv.next_payment_attempt === "number") {
      steps.push({ at: inv.next_payment_attempt, order, run: (env) => attemptPayment(env, inv) });
    }
  }
  if (steps.length === 0) return null;
  return steps.reduce((a, b) => (b.at < a.at || (b.at === a.at && b.order < a.order) ? b : a));
}

function expire(env: BillingEnv, sub: Json): void {
  const before = structuredClone(sub);
  const inv = env.store.state.invoices[sub.latest_invoice as string];
  if (inv) voidInvoice(env, inv);
  sub.status = "incomplete_expired";
  sub.ended_at = env.at;
  emitUpdated(env, "customer.subscription.updated", sub, before);
}

function expirePendingUpdate(env: BillingEnv, sub: Json): void {
  const meta = subscriptionMeta(env.store, sub.id as string);
  const inv = meta.pendingUpdateInvoice ? env.store.state.invoices[meta.pendingUpdateInvoice] : undefined;
  if (inv) voidInvoice(env, inv);
  const before = structuredClone(sub);
  sub.pending_update = null;
  meta.pendingUpdateInvoice = null;
  emit(env, "customer.subscription.pending_update_expired", sub, changedFields(before, sub));
}

/** The renewal invoice as invoice.upcoming shows it (not stored, no id of its own). */
function upcomingInvoice(env: BillingEnv, sub: Json): Json {
  const customer = customerJson(env.store, sub.customer as string)!;
  const { end } = currentPeriod(sub);
  const { interval, count } = recurringOf(items(sub)[0]!.price as Json);
  const nextEnd = periodEnd(Number(sub.billing_cycle_anchor), end, interval, count);
  const pending = subscriptionMeta(env.store, sub.id as string).pendingItems as never[];
  const scheduled = scheduledItems(env.store, sub, end);
  const lines = [
    ...pending,
    ...(scheduled
      ? scheduled.map((s, i) => periodLine(env.store, s.price, s.quantity, end, periodEnd(Number(sub.billing_cycle_anchor), end, recurringOf(s.price).interval, recurringOf(s.price).count), `si_scheduled_${i}`))
      : items(sub).map((it) => periodLine(env.store, it.price as Json, Number(it.quantity), end, nextEnd, it.id as string))),
  ];
  const preview = buildInvoice(env, { customer, subscription: sub, lines, billingReason: "subscription_cycle", periodStart: currentPeriod(sub).start, periodEnd: end, preview: true });
  return publicInvoice(preview);
}

/** Runs every step due in the scope up to `until`, each at its own time. Returns how many ran. */
export function runDue(deps: Deps, scope: string | null, until: number): number {
  let ran = 0;
  for (; ran < 10_000; ran++) {
    const step = nextStep(deps.store, scope);
    if (!step || step.at > until) break;
    const at = Math.max(step.at, 0);
    if (scope) {
      const tc = deps.store.state.testClocks[scope];
      if (tc && at > Number(tc.frozen_time)) tc.frozen_time = at;
    }
    step.run({ ...deps, req: null, at });
  }
  if (ran > 0) deps.store.changed();
  return ran;
}

/** Settles invoices paid or declined outside the billing code (in every scope). */
export function reconcile(deps: Deps): void {
  for (const inv of Object.values(deps.store.state.invoices)) {
    if (inv.status !== "open" || !invoicePaymentIntentId(inv)) continue;
    const tc = inv.test_clock as string | null;
    const at = tc ? Number(deps.store.state.testClocks[tc]?.frozen_time ?? deps.clock.now()) : deps.clock.now();
    reconcileInvoice({ ...deps, req: null, at }, inv);
  }
}

/** Completes test clocks left "advancing": runs their due work up to the target, then "ready". */
function advanceTestClocks(deps: Deps): void {
  for (const tc of Object.values(deps.store.state.testClocks)) {
    if (tc.status !== "advancing") continue;
    const target = Number((tc.status_details as Json).advancing && ((tc.status_details as Json).advancing as Json).target_frozen_time);
    if (!Number.isFinite(target)) continue;
    runDue(deps, tc.id as string, target);
    Object.assign(tc, { frozen_time: target, status: "ready", status_details: {} });
    emit({ ...deps, req: null, at: target }, "test_helpers.test_clock.ready", tc);
    deps.store.changed();
  }
}

/** After every request and on a timer: settle payments, advance test clocks, run the emulator clock's due work. */
export function tick(deps: Deps): void {
  reconcile(deps);
  advanceTestClocks(deps);
  runDue(deps, null, deps.clock.now());
}

