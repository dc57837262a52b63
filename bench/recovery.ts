// Benchmark (not a test): how the webhook's throughput survives losing the database (issue 10).
// Signed payment_intent.succeeded events, 16 at a time, ~30 % duplicates, retried on non-2xx as
// Stripe does, go through the real route handler (app/api/stripe/webhook/route.ts POST, in this
// process, with the app's own pool from getDb()) — or, with BENCH_RECOVERY_URL, over HTTP to a
// running server (npm start) whose DATABASE_URL must be the one given here. Meanwhile:
//   1. every connection of the app ("creditloop" in pg_stat_activity) is terminated every 2.5 s
//      for 10 s, from a separate connection;
//   2. (embedded server only) the PostgreSQL server is stopped and started again.
// Prints the rate before, during and after each fault, and the recovery time: from the last kill
// (or from the server being back) to the end of the first 1-second window at ≥ 80 % of the rate
// before. Checks exactly-once effects at the end. Asserts nothing about speed.
import { performance } from "node:perf_hooks";
import { sql } from "drizzle-orm";
import { ensurePostgres, type PgHandle } from "../scripts/pg";
import { PORTS } from "../scripts/ports";
import { runMigrations } from "../db/migrate";
import { createDb, getDb, getDbSettings } from "../db/client";
import { stopAndWait } from "../tests/support/pg-restart";
import {
  RECOVERY_LOAD_EVENTS,
  exactlyOnceViolations,
  fillPool,
  makePaidEvents,
  medianRate,
  recoveryTime,
  redeliverUnacknowledged,
  startLoad,
  timeline,
  type Deliver,
} from "../tests/support/webhook-load";

const remote = process.env.BENCH_RECOVERY_URL;
const WEBHOOK_SECRET = remote ? process.env.STRIPE_WEBHOOK_SECRET!.split(",")[0]! : "whsec_bench_recovery";
if (!remote) {
  Object.assign(process.env, {
    STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET,
    STRIPE_EMULATOR_URL: process.env.STRIPE_EMULATOR_URL ?? "http://127.0.0.1:1",
    NEXTAUTH_SECRET: "bench-secret-0123456789",
    LOG_LEVEL: process.env.LOG_LEVEL ?? "fatal",
  });
  delete process.env.STRIPE_SECRET_KEY;
}
const APP_NAME = process.env.DB_APPLICATION_NAME || "creditloop";
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const fmt = (n: number) => n.toFixed(0);

async function main() {
  const server = { dataDir: ".data/postgres-bench", port: PORTS.benchPg, database: "creditloop_recovery" };
  let pg: PgHandle = await ensurePostgres({ ...server, fresh: !remote });
  process.env.DATABASE_URL = pg.url;
  if (!remote) await runMigrations(pg.url);
  const harness = createDb(pg.url, { max: 4, applicationName: "creditloop-bench-harness" });

  let deliver: Deliver;
  let where: string;
  if (remote) {
    where = `HTTP POST ${remote}`;
    deliver = async (payload, signature) => {
      const res = await fetch(remote, {
        method: "POST",
        headers: { "content-type": "application/json", "stripe-signature": signature },
        body: payload,
        signal: AbortSignal.timeout(30_000),
      });
      await res.arrayBuffer();
      return res.status;
    };
  } else {
    where = "the route handler app/api/stripe/webhook/route.ts, in process (tsx, not a Next build)";
    const { POST } = await import("../app/api/stripe/webhook/route");
    deliver = async (payload, signature) => {
      const res = await POST(
        new Request("http://bench.local/api/stripe/webhook", { method: "POST", headers: { "content-type": "application/json", "stripe-signature": signature }, body: payload }),
      );
      return res.status;
    };
  }
  // Failures are expected by the hundred during the faults; the figures below count them.
  console.error = () => {};
  console.warn = () => {};

  const appBackends = async () =>
    (await harness.db.execute(sql`select 1 from pg_stat_activity where application_name = ${APP_NAME}`)).length;
  const killAll = async () =>
    (await harness.db.execute(sql`select pg_terminate_backend(pid) from pg_stat_activity where application_name = ${APP_NAME} and pid <> pg_backend_pid()`)).length;

  // Enough for the whole run (about 35 s of load) at a few thousand deliveries/s; a load that runs
  // out is reported below, as its rates after that would measure nothing.
  const events = await makePaidEvents(harness.db, { count: Number(process.env.BENCH_RECOVERY_EVENTS ?? 4 * RECOVERY_LOAD_EVENTS), orgs: 50 });
  // In process: the whole pool open before the rate before any fault is measured, as it is after
  // a reconnect (tests/support/webhook-load.ts, fillPool, says why). Over HTTP the server's pool
  // is its own; "app backends" below says how many it had open.
  if (!remote) await fillPool(getDb(), getDbSettings().max);
  const run = startLoad({ events, deliver, secret: WEBHOOK_SECRET, concurrency: 16, duplicateRatio: 0.3 });
  const out = { push: (line: string) => process.stdout.write(line + "\n") };
  out.push(`recovery: ${where}; 16 concurrent deliveries, ~30 % duplicates, retried on non-2xx`);
  try {
    await sleep(2000); // warm-up
    let t = performance.now();
    await sleep(4000);
    const before = medianRate(run, t, performance.now());
    // A load that delivers nothing measures nothing: say why instead of printing zeros.
    if (before === 0) throw new Error(`no delivery was acknowledged before any fault; first answers: ${JSON.stringify(run.failures.slice(0, 3))}`);
    out.push(`  before any fault: ${fmt(before)} deliveries/s (median of 1 s windows); app backends ${await appBackends()}`);

    // 1. Terminate every connection of the app every 2.5 s for 10 s.
    const faultFrom = performance.now();
    const failuresBefore = run.failures.length;
    let killed = 0;
    for (let k = 0; k < 5; k++) {
      killed += await killAll();
      if (k < 4) await sleep(2500);
    }
    const lastKill = performance.now();
    await sleep(8000);
    let end = performance.now();
    const rec1 = recoveryTime(run, lastKill, end, 0.8 * before);
    out.push(
      `  terminate all connections every 2.5 s for 10 s (${killed} backends): during ${fmt(run.rate(faultFrom, lastKill))}/s, ` +
        `${run.failures.length - failuresBefore} failed deliveries (retried)`,
    );
    out.push(
      `    after the last kill: back to ≥ 80 % in ${rec1 === null ? "— (not within 8 s)" : `${(rec1 / 1000).toFixed(1)} s`}; ` +
        `rate over the next 5 s ${fmt(run.rate(lastKill, lastKill + 5000))}/s, 5–8 s ${fmt(run.rate(lastKill + 5000, end))}/s; per second: ${timeline(run, lastKill, end)}; app backends ${await appBackends()}`,
    );

    // 2. Restart the server (embedded only).
    if (!pg.external && !remote) {
      const failures2 = run.failures.length;
      t = performance.now();
      await stopAndWait(pg, server.dataDir);
      await sleep(1000);
      // DATABASE_URL now names this server; ignore it so the embedded server is started again.
      pg = await ensurePostgres({ ...server, urlEnv: "CREDITLOOP_UNSET_URL", verbose: Boolean(process.env.BENCH_VERBOSE_PG) });
      const backAt = performance.now();
      await sleep(8000);
      end = performance.now();
      const rec2 = recoveryTime(run, backAt, end, 0.8 * before);
      out.push(`  server stop + start: down ${((backAt - t) / 1000).toFixed(1)} s, ${run.failures.length - failures2} failed deliveries (retried)`);
      out.push(
        `    after it was back: back to ≥ 80 % in ${rec2 === null ? "— (not within 8 s)" : `${(rec2 / 1000).toFixed(1)} s`}; ` +
          `rate over the next 5 s ${fmt(run.rate(backAt, backAt + 5000))}/s; per second: ${timeline(run, backAt, end)}; app backends ${await appBackends()}`,
      );
    } else {
      out.push("  server restart: skipped (external database)");
    }
  } finally {
    await run.stop();
    await redeliverUnacknowledged(run, events, deliver, WEBHOOK_SECRET, 60_000);
  }
  const violations = await exactlyOnceViolations(harness.db, run, events);
  const [mismatch] = await harness.db.execute<{ n: number }>(
    sql`select count(*)::int as n from organizations o where o.balance <> coalesce((select sum(amount) from credit_entries e where e.org_id = o.id), 0)`,
  );
  if (run.attempted.size >= events.length) out.push(`  THE LOAD RAN OUT of its ${events.length} events before the end: the rates after that are not measurements (raise BENCH_RECOVERY_EVENTS)`);
  out.push(`  exactly once: ${run.acknowledged.size} events paid, ${violations.count} with other than one ledger entry; organisations with balance ≠ SUM(ledger): ${mismatch!.n}`);
  await harness.sql.end({ timeout: 5 });
  await pg.stop();
  process.exit(violations.count === 0 && mismatch!.n === 0 && run.attempted.size < events.length ? 0 : 1);
}

main().catch((e) => {
  const cause = (e as { cause?: { message?: string; code?: string } }).cause;
  process.stderr.write(`bench failed: ${String((e as Error).message ?? e).split("\n")[0]!.slice(0, 200)}${cause ? ` — cause: ${cause.code ?? ""} ${cause.message ?? ""}` : ""}\n`);
  process.exit(1);
});
