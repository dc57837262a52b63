// Running the job queue (lib/jobs/queue.ts holds the API and the queue settings):
//   installJobQueue(url)      creates or migrates the pgboss schema and the queues (idempotent,
//                             safe from several instances at once). startWorkers does it too.
//   startWorkers(db, opts?)   in-process workers polling every queue, plus the cron schedules.
//                             Called by instrumentation.ts when the Next server starts (dev,
//                             preview and production alike); any number of instances may run.
//   stopWorkers()             graceful stop: running jobs finish, nothing new is fetched.
//   runQueuedJobs(db, opts?)  tests: runs every due job in this process until none is left and
//                             reports each outcome, so a test can assert on the database after.
import PgBoss from "pg-boss";
import type { Db } from "@/db/client";
import { log } from "../log";
import { runCancelIntentJob } from "../topups/cancel";
import { reclaimAllAbandonedHolds } from "../topups/reclaim";
import { pruneSignInAttempts } from "../auth/sign-in";
import { runCreateRefundJob } from "../refunds/request";
import { reconcile } from "../reconcile/reconcile";
import { runResyncJob } from "../webhooks/resync";
import { applyGraceEnd } from "../subscriptions/dunning";
import { runMonthlyGrant } from "../subscriptions/grants";
import { syncSubscription } from "../subscriptions/sync";
import { runAutoRechargeJob } from "../balance-care/auto-recharge";
import { runExpireJob } from "../ledger/expiry";
import { runPushUsageJob } from "../usage/push";
import { runDetachJob, runSaveCardFromPaymentJob } from "../balance-care/card-setup";
import { JOB_SCHEMA, QUEUES, schedules, type JobData, type JobName } from "./queue";

type JobHandler<N extends JobName> = (db: Db, data: JobData[N]) => Promise<unknown>;

const HANDLERS: { [N in JobName]: JobHandler<N> } = {
  "stripe.cancel-payment-intent": runCancelIntentJob,
  "coupons.reclaim-abandoned-holds": async (db) => ({ reclaimed: await reclaimAllAbandonedHolds(db) }),
  "auth.prune-sign-in-attempts": async (db) => ({ pruned: await pruneSignInAttempts(db) }),
  "stripe.create-refund": runCreateRefundJob,
  "ops.reconcile": async (db, data) => {
    const run = await reconcile(db, { actorUserId: data.actorUserId ?? null });
    return { runId: run.id, fixed: run.fixed };
  },
  "ops.resync-events": runResyncJob,
  "subscriptions.grace-end": (db, data) => applyGraceEnd(db, data.subscriptionId, syncSubscription),
  "subscriptions.monthly-grant": runMonthlyGrant,
  "balance.auto-recharge": runAutoRechargeJob,
  "credits.expire": runExpireJob,
  "billing.push-usage": runPushUsageJob,
  "stripe.detach-payment-method": runDetachJob,
  "balance.save-card-from-payment": runSaveCardFromPaymentJob,
};

function databaseUrl(explicit?: string): string {
  const url = explicit ?? process.env.DATABASE_URL;
  if (!url) throw new Error("DATABASE_URL is not set: the job queue lives in the application's database");
  return url;
}

function newBoss(url: string, opts: { schedule: boolean; supervise: boolean }): PgBoss {
  const boss = new PgBoss({
    connectionString: url,
    schema: JOB_SCHEMA,
    max: 4,
    application_name: "creditloop-jobs",
    schedule: opts.schedule,
    supervise: opts.supervise,
    migrate: true,
  });
  // pg's errors carry the whole client object; log what a person reads (the queue reconnects).
  boss.on("error", (err: Error & { code?: string }) =>
    log.error({ err: { type: err.name, message: err.message, code: err.code } }, "job queue error"),
  );
  return boss;
}

async function ensureQueues(boss: PgBoss): Promise<void> {
  for (const [name, config] of Object.entries(QUEUES)) {
    const existing = await boss.getQueue(name);
    try {
      if (existing) await boss.updateQueue(name, { name, ...config });
      else await boss.createQueue(name, { name, ...config });
    } catch (e) {
      // Another instance created it between our look and our create.
      if (!(await boss.getQueue(name))) throw e;
    }
  }
}

/** Creates or migrates the job schema and queues. Idempotent. */
export async function installJobQueue(url?: string): Promise<void> {
  const boss = newBoss(databaseUrl(url), { schedule: false, supervise: false });
  await boss.start();
  try {
    await ensureQueues(boss);
  } finally {
    await boss.stop({ graceful: false, wait: true });
  }
}

async function runJob<N extends JobName>(db: Db, job: PgBoss.Job<JobData[N]> & { name: N }): Promise<unknown> {
  const jobLog = log.child({ jobId: job.id, job: job.name, ...job.data });
  try {
    const output = await (HANDLERS[job.name] as JobHandler<N>)(db, job.data);
    jobLog.info({ output }, "job done");
    return output;
  } catch (err) {
    jobLog.warn({ err }, "job failed; it will be retried");
    throw err;
  }
}

let running: { boss: PgBoss } | undefined;

export async function startWorkers(db: Db, opts: { url?: string; pollingIntervalSeconds?: number; schedule?: boolean } = {}): Promise<void> {
  if (running) return;
  const boss = newBoss(databaseUrl(opts.url), { schedule: opts.schedule ?? true, supervise: true });
  await boss.start();
  await ensureQueues(boss);
  for (const name of Object.keys(QUEUES) as JobName[]) {
    await boss.work<JobData[typeof name]>(name, { pollingIntervalSeconds: opts.pollingIntervalSeconds ?? 2, batchSize: 1 }, async ([job]) =>
      runJob(db, { ...job!, name }),
    );
  }
  if (opts.schedule ?? true) {
    for (const [name, cron] of Object.entries(schedules())) await boss.schedule(name, cron, {}, { singletonKey: name });
  }
  running = { boss };
  log.info({ queues: Object.keys(QUEUES) }, "job workers started");
}

export async function stopWorkers(): Promise<void> {
  const current = running;
  running = undefined;
  if (current) await current.boss.stop({ graceful: true, wait: true, timeout: 20_000 });
}

export type JobRun = { name: JobName; id: string; ok: boolean; output?: unknown; error?: string };

/**
 * Tests: fetches and runs due jobs one at a time until no queue has one, and returns what ran.
 * `includeDelayed` also takes jobs waiting for a retry's backoff (or startAfter), so a test can
 * run a retry now instead of waiting. Failures are recorded with pg-boss (retry or fail) as a
 * worker would.
 */
export async function runQueuedJobs(db: Db, opts: { url?: string; includeDelayed?: boolean; names?: JobName[]; maxJobs?: number } = {}): Promise<JobRun[]> {
  const boss = newBoss(databaseUrl(opts.url), { schedule: false, supervise: false });
  await boss.start();
  const runs: JobRun[] = [];
  try {
    const names = opts.names ?? (Object.keys(QUEUES) as JobName[]);
    for (let idle = false; !idle && runs.length < (opts.maxJobs ?? 100); ) {
      idle = true;
      for (const name of names) {
        const [job] = await boss.fetch<JobData[typeof name]>(name, { batchSize: 1, ignoreStartAfter: opts.includeDelayed ?? false });
        if (!job) continue;
        idle = false;
        try {
          const output = await runJob(db, { ...job, name });
          await boss.complete(name, job.id, output && typeof output === "object" ? output : { output });
          runs.push({ name, id: job.id, ok: true, output });
        } catch (e) {
          await boss.fail(name, job.id, { message: e instanceof Error ? e.message : String(e) });
          runs.push({ name, id: job.id, ok: false, error: e instanceof Error ? e.message : String(e) });
        }
      }
    }
  } finally {
    await boss.stop({ graceful: false, wait: true });
  }
  return runs;
}
