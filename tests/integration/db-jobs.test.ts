// Background jobs survive losing their database connections (issue 10): while pg-boss workers run
// stripe.cancel-payment-intent jobs, every connection of the job queue's pool and of the app's pool
// is terminated several times. A job that fails on the way throws and is retried with pg-boss's
// back-off (run at once here with includeDelayed instead of waiting for it); a job whose
// completion was lost stays active until pg-boss expires and retries it (expiry brought forward
// here). Afterwards every job has completed and took effect once: each purchase is canceled, its
// intent canceled at Stripe, no job lost or failed for good.
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { inArray, sql } from "drizzle-orm";
import { createRequire } from "node:module";
import { createDb } from "@/db/client";
import { purchases } from "@/db/schema";
import { runOrgAction } from "@/lib/actions/org-action";
import { enqueue } from "@/lib/jobs/queue";
import { runQueuedJobs, startWorkers, stopWorkers } from "@/lib/jobs/workers";
import { log } from "@/lib/log";
import { stripe } from "@/lib/stripe/client";
import { startTopUpDef } from "@/lib/topups/actions";
import { useTestDatabase } from "../support/context";
import { makeOrg, makePack, makeUser } from "../support/fixtures";

// pg-boss's SQL for expiring jobs stuck in "active" (not part of its typed API).
const plans = createRequire(import.meta.url)("pg-boss/src/plans.js") as { failJobsByTimeout(schema: string): string };
const { db: harness } = useTestDatabase();
const APP = "creditloop-jobs-fault-test";
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
let app: ReturnType<typeof createDb>;
const logLevel = log.level;

beforeAll(() => {
  app = createDb(process.env.DATABASE_URL!, { max: 4, applicationName: APP });
  vi.spyOn(console, "error").mockImplementation(() => {});
  vi.spyOn(console, "warn").mockImplementation(() => {});
  log.level = "silent"; // every kill logs a "job queue error"; the assertions say what matters
});
afterAll(async () => {
  await stopWorkers();
  vi.restoreAllMocks();
  log.level = logLevel;
  await app.sql.end({ timeout: 5 });
});

describe("jobs and connection loss", () => {
  it("cancel jobs under repeated kills of the workers' and the app's connections: all done once, none lost", { timeout: 120_000 }, async () => {
    const pack = await makePack(harness, { credits: 100, amount: 1900 });
    const started: { purchaseId: string; paymentIntentId: string }[] = [];
    for (let i = 0; i < 12; i++) {
      const org = await makeOrg(harness);
      const admin = await makeUser(harness, { orgId: org.id, role: "admin" });
      const r = await runOrgAction(startTopUpDef, admin, { orgSlug: org.slug, packId: pack.id, requestId: crypto.randomUUID() }, harness);
      if (!r.ok) throw new Error(r.error);
      const [p] = await harness.select().from(purchases).where(inArray(purchases.id, [r.data.purchaseId]));
      started.push({ purchaseId: p!.id, paymentIntentId: p!.stripePaymentIntentId! });
    }

    await startWorkers(app.db, { pollingIntervalSeconds: 0.5, schedule: false });
    for (const s of started) {
      await enqueue(harness, "stripe.cancel-payment-intent", { ...s, reason: "test: connection loss" }, { singletonKey: s.purchaseId });
    }
    let killed = 0;
    for (let k = 0; k < 8; k++) {
      const rows = await harness.execute(
        sql`select pg_terminate_backend(pid) from pg_stat_activity where application_name in (${APP}, 'creditloop-jobs') and pid <> pg_backend_pid()`,
      );
      killed += rows.length;
      await sleep(300);
    }
    expect(killed).toBeGreaterThan(0);
    await sleep(1000);
    await stopWorkers();
    // A job whose completion was cut off by a kill stays "active" until pg-boss expires it
    // (expireInSeconds) and retries it. Let that expiry come now instead of in minutes: age the
    // start and run pg-boss's own expiry statement (what its maintenance does).
    await harness.execute(sql`update pgboss.job set started_on = started_on - expire_in - interval '1 second' where state = 'active'`);
    await harness.execute(sql.raw(plans.failJobsByTimeout("pgboss")));
    // Jobs that failed during the kills wait for their back-off; run their retries now.
    for (let round = 0; round < 5; round++) {
      const runs = await runQueuedJobs(app.db, { includeDelayed: true });
      if (runs.length === 0) break;
    }

    const jobs = await harness.execute<{ state: string; n: number }>(
      sql`select state::text as state, count(*)::int as n from pgboss.job where name = 'stripe.cancel-payment-intent' group by state`,
    );
    expect(Object.fromEntries(jobs.map((j) => [j.state, j.n]))).toEqual({ completed: started.length });
    const rows = await harness.select().from(purchases).where(inArray(purchases.id, started.map((s) => s.purchaseId)));
    expect(rows.map((r) => r.status)).toEqual(started.map(() => "canceled"));
    for (const s of started) expect((await stripe().paymentIntents.retrieve(s.paymentIntentId)).status).toBe("canceled");
  });
});
