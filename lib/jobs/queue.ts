// The job queue: pg-boss 10 on the application's own PostgreSQL (schema `pgboss`), for work that
// must follow a committed change — Stripe calls above all (cancel a declined or orphaned
// PaymentIntent now; usage reports, syncs and dunning later) — and for scheduled sweeps.
//
// API (the only one other modules use):
//   enqueue(tx, name, data, opts?)  inserts a job through `tx`, so it commits or rolls back with
//                                   the change that needs it. Never enqueue after a commit.
//   startWorkers(db, opts?)         lib/jobs/workers.ts — installs/migrates the schema, creates
//                                   the queues, registers the schedule and polls every queue.
//   stopWorkers()                   lib/jobs/workers.ts — graceful stop (waits for running jobs).
//   runQueuedJobs(db, opts?)        lib/jobs/workers.ts — tests: runs every due job until none is
//                                   left, in this process, and reports what happened.
//
// Rules for a job: its handler is idempotent (it may run twice: a crash after the work and before
// completion, or two instances racing an expiry), it re-reads state instead of trusting its data,
// and it throws to be retried (exponential backoff per queue below). Queues use the "stately"
// policy with a singleton key where one pending job per subject is enough, so enqueuing the same
// follow-up from a webhook, a page and a sweep yields one job. Fetching uses SKIP LOCKED, so any
// number of app instances may run workers.
import PgBoss from "pg-boss";
import type { DbOrTx } from "@/db/client";
import { meteringConfig, pushCron } from "../usage/rules";

export const JOB_SCHEMA = "pgboss";

/** Job names and their payloads. */
export type JobData = {
  /** Cancel a PaymentIntent at Stripe (if still cancellable), then settle its purchase from it. */
  "stripe.cancel-payment-intent": { paymentIntentId: string; purchaseId: string | null; reason: string };
  /** Scheduled sweep: reclaim coupon holds of abandoned checkouts (every coupon). */
  "coupons.reclaim-abandoned-holds": Record<string, never>;
  /** Scheduled sweep: delete sign-in attempts older than the retention (30 days). */
  "auth.prune-sign-in-attempts": Record<string, never>;
  /** Make a staff refund at Stripe (key refund:<refundId>) and record Stripe's answer (lib/refunds). */
  "stripe.create-refund": { refundId: string };
  /** Compare Stripe with purchases and the ledger; fix missing grants (lib/reconcile). */
  "ops.reconcile": { actorUserId?: string | null };
  /** Re-sync from Stripe: process every event since `since` we never processed (lib/webhooks/resync.ts). */
  "ops.resync-events": { runId: string; since: string; actorUserId: string | null };
  /** Grace period of a past-due subscription is over: pause campaigns for billing if still unpaid. */
  "subscriptions.grace-end": { subscriptionId: string };
  /** Month `month` (1…11) of an annual plan's credits, granted monthly (lib/subscriptions/grants.ts). */
  "subscriptions.monthly-grant": { subscriptionId: string; invoiceId: string; month: number; expiresAt?: number | null };
  /** A debit crossed the auto-recharge threshold: buy the pack off-session with the saved card. */
  "balance.auto-recharge": { orgId: string; crossingEntryId: number };
  /** A saved card was replaced (or an older attempt's card superseded): detach it at Stripe. */
  "stripe.detach-payment-method": { orgId: string; paymentMethodId: string };
  /** A top-up paid with setup_future_usage succeeded: save its card for auto-recharge. */
  "balance.save-card-from-payment": { purchaseId: string };
  /** Expire what is left of an expiring grant (lib/ledger/expiry.ts); without grantId: every due one. */
  "credits.expire": { grantId?: string };
  /** Report unpushed overage usage to Stripe's Billing Meter in batches (lib/usage/push.ts). */
  "billing.push-usage": { reason?: "units" | "cron"; orgId?: string };
};
export type JobName = keyof JobData;

type QueueConfig = Omit<PgBoss.Queue, "name">;

/** Queue settings; changing them is applied by startWorkers (updateQueue). */
export const QUEUES: Record<JobName, QueueConfig> = {
  // Retries: 10 s, 20 s, 40 s … capped by pg-boss; about 6 hours over 12 attempts. If Stripe is
  // still refusing after that, the scheduled sweep enqueues it again (the hold stays meanwhile).
  "stripe.cancel-payment-intent": { policy: "stately", retryLimit: 12, retryDelay: 10, retryBackoff: true, expireInSeconds: 120, retentionMinutes: 60 * 24 * 7 },
  "coupons.reclaim-abandoned-holds": { policy: "stately", retryLimit: 2, retryDelay: 30, retryBackoff: true, expireInSeconds: 600, retentionMinutes: 60 * 24 },
  "auth.prune-sign-in-attempts": { policy: "stately", retryLimit: 3, retryDelay: 60, retryBackoff: true, expireInSeconds: 600, retentionMinutes: 60 * 24 },
  "stripe.create-refund": { policy: "stately", retryLimit: 12, retryDelay: 10, retryBackoff: true, expireInSeconds: 120, retentionMinutes: 60 * 24 * 7 },
  "ops.reconcile": { policy: "stately", retryLimit: 2, retryDelay: 60, retryBackoff: true, expireInSeconds: 1800, retentionMinutes: 60 * 24 * 7 },
  // Singleton per since-date (the action's singleton key); a long backlog gets 30 minutes.
  "ops.resync-events": { policy: "stately", retryLimit: 3, retryDelay: 30, retryBackoff: true, expireInSeconds: 1800, retentionMinutes: 60 * 24 * 7 },
  // Both re-read state and are idempotent; "standard" so each month's / delinquency's job is its own.
  "subscriptions.grace-end": { policy: "standard", retryLimit: 12, retryDelay: 30, retryBackoff: true, expireInSeconds: 120, retentionMinutes: 60 * 24 * 30 },
  "subscriptions.monthly-grant": { policy: "standard", retryLimit: 12, retryDelay: 30, retryBackoff: true, expireInSeconds: 120, retentionMinutes: 60 * 24 * 400 },
  // Singleton per organisation (lib/balance-care/after-debit.ts); retried through Stripe outages
  // with the same PaymentIntent idempotency key (purchase:<id>), so a retry never pays twice.
  // Its retryWindowSeconds (about 9 h) is when an unpaid auto-recharge purchase counts as
  // abandoned (lib/balance-care/auto-recharge.ts); it must stay under Stripe's 24 h key lifetime.
  "balance.auto-recharge": { policy: "stately", retryLimit: 10, retryDelay: 15, retryBackoff: true, expireInSeconds: 120, retentionMinutes: 60 * 24 * 7 },
  // Singleton per payment method (detach:<pm>); the job never detaches the card in use.
  "stripe.detach-payment-method": { policy: "stately", retryLimit: 12, retryDelay: 10, retryBackoff: true, expireInSeconds: 120, retentionMinutes: 60 * 24 * 7 },
  // Singleton per purchase; applies the payment's card by the card-setup ordering rules.
  "balance.save-card-from-payment": { policy: "stately", retryLimit: 12, retryDelay: 10, retryBackoff: true, expireInSeconds: 120, retentionMinutes: 60 * 24 * 7 },
  // One job per bucket (startAfter = its expiry) plus the hourly sweep; idempotent per bucket.
  "credits.expire": { policy: "standard", retryLimit: 12, retryDelay: 30, retryBackoff: true, expireInSeconds: 600, retentionMinutes: 60 * 24 * 7 },
  // Singleton (one pending push covers every organisation); the cron adds one every N minutes.
  // Batches keep their identifier across retries, so a retry never counts usage twice.
  "billing.push-usage": { policy: "stately", retryLimit: 12, retryDelay: 15, retryBackoff: true, expireInSeconds: 600, retentionMinutes: 60 * 24 * 7 },
};

/** pg-boss's own default (lib/jobs/workers.ts does not set it): how often expired attempts are failed. */
const MAINTENANCE_INTERVAL_SECONDS = 120;

/**
 * The longest a job of this queue can still be running or waiting for a retry after an attempt
 * started, when workers run: from its queue's options and pg-boss 10's schedule (src/plans.js,
 * failJobs: after the failure of attempt n = 0…retryLimit-1 the next starts retryDelay·2^(n+1)/2
 * ·(1 + random()) seconds later with retryBackoff — at most retryDelay·2^(n+1) — else retryDelay
 * later), each of the retryLimit + 1 attempts running at most expireInSeconds, and noticed as
 * expired by the next maintenance. Past it the job has failed for good. (With every worker down
 * longer, a waiting job still runs later, until its retention; callers that act on "past the
 * window" must stay safe if it does.)
 */
export function retryWindowSeconds(name: JobName): number {
  const q = QUEUES[name];
  const limit = q.retryLimit ?? 0;
  const delay = q.retryDelay ?? 0;
  let waits = 0;
  for (let n = 0; n < limit; n++) waits += q.retryBackoff ? Math.max(delay, 1) * 2 ** Math.min(16, n + 1) : delay;
  return waits + (limit + 1) * ((q.expireInSeconds ?? 15 * 60) + MAINTENANCE_INTERVAL_SECONDS);
}

/** Cron schedules (pg-boss sends each once per slot across all instances). */
export const SCHEDULES: Partial<Record<JobName, string>> = {
  "coupons.reclaim-abandoned-holds": "*/5 * * * *",
  "auth.prune-sign-in-attempts": "17 3 * * *",
  "ops.reconcile": "47 3 * * *",
  "credits.expire": "7 * * * *",
};

/** SCHEDULES plus those the environment sets (the usage push: every METER_PUSH_EVERY_MINUTES). */
export function schedules(env: Record<string, string | undefined> = process.env): Partial<Record<JobName, string>> {
  return { ...SCHEDULES, "billing.push-usage": pushCron(meteringConfig(env)) };
}

export type EnqueueOptions = Pick<PgBoss.SendOptions, "singletonKey" | "startAfter" | "priority" | "retryLimit">;

/** pg-boss runs its SQL through this: the drizzle handle's own postgres.js connection. */
export function jobDbFor(handle: DbOrTx): PgBoss.Db {
  // drizzle's postgres-js session keeps the postgres.js client (a transaction's own connection
  // inside db.transaction), which is what makes the insert part of the caller's transaction.
  const client = (handle as unknown as { session?: { client?: { unsafe(q: string, v: unknown[]): Promise<unknown[]> } } }).session?.client;
  if (!client) throw new Error("jobDbFor: not a drizzle postgres-js database or transaction");
  return {
    async executeSql(text: string, values: unknown[] = []) {
      const rows = await client.unsafe(text, values.map(toParam));
      return { rows: [...rows] };
    },
  };
}

// postgres.js sends untyped parameters as text; pg-boss passes job data as an object (jsonb).
function toParam(v: unknown): unknown {
  if (v === null || v === undefined) return null;
  if (v instanceof Date) return v.toISOString();
  if (typeof v === "object" && !Array.isArray(v) && !(v instanceof Uint8Array)) return JSON.stringify(v);
  return v;
}

let sender: PgBoss | undefined;
/** A pg-boss instance used only to build job inserts; it never opens a connection of its own. */
function boss(): PgBoss {
  sender ??= new PgBoss({ db: { executeSql: () => Promise.reject(new Error("the job sender has no connection")) }, schema: JOB_SCHEMA });
  return sender;
}

/**
 * Adds a job in the caller's transaction (or, with a plain db handle, at once). Returns the job
 * id, or null when a pending job with the same singleton key already exists (stately queues).
 */
export async function enqueue<N extends JobName>(tx: DbOrTx, name: N, data: JobData[N], opts: EnqueueOptions = {}): Promise<string | null> {
  const id = await boss().send(name, data, { ...opts, db: jobDbFor(tx) });
  if (id === null && !opts.singletonKey) throw new Error(`job ${name} was not queued: is the job queue installed (startWorkers / installJobQueue)?`);
  return id;
}
