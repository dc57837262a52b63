// The app survives losing every database connection (issue 10): under webhook load (16 at a
// time, ~30 % duplicates, retried on non-2xx as Stripe does) all of the app pool's connections are
// terminated with pg_terminate_backend, several times. Afterwards the rate is back within 80 % of
// the pre-fault rate within 5 s, and the effects are exactly once: every delivered event's purchase
// has one ledger entry, balance = SUM(ledger) (checked after each test by useTestDatabase).
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { sql } from "drizzle-orm";
import { createDb } from "@/db/client";
import { log } from "@/lib/log";
import { receiveStripeWebhook } from "@/lib/webhooks/receive";
import { useTestDatabase } from "../support/context";
import { RECOVERY_LOAD_EVENTS, exactlyOnceViolations, makePaidEvents, fillPool, medianRate, recoveryTime, redeliverUnacknowledged, startLoad, timeline, type Deliver } from "../support/webhook-load";

const { db: harness } = useTestDatabase();
const APP = "creditloop-fault-test";
const secret = () => process.env.STRIPE_WEBHOOK_SECRET!.split(",")[0]!;
const logLevel = log.level;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let app: ReturnType<typeof createDb>;
beforeAll(() => {
  app = createDb(process.env.DATABASE_URL!, { max: 10, applicationName: APP });
  // Hundreds of expected failures during the faults; the assertions below say what matters.
  vi.spyOn(console, "error").mockImplementation(() => {});
  log.level = "silent"; // expected failures by the hundred; the assertions say what matters
  vi.spyOn(console, "warn").mockImplementation(() => {});
});
afterAll(async () => {
  vi.restoreAllMocks();
  log.level = logLevel;
  await app.sql.end({ timeout: 5 });
});

/** Terminates every backend of the app's pool from the harness's own connection. */
async function killAppConnections(): Promise<number> {
  const rows = await harness.execute<{ ok: boolean }>(
    sql`select pg_terminate_backend(pid) as ok from pg_stat_activity where application_name = ${APP} and pid <> pg_backend_pid()`,
  );
  return rows.length;
}

/** Resolves once no backend of `app` remains (the kill has taken effect). */
async function waitUntilGone(app: string) {
  for (let i = 0; i < 100; i++) {
    const rows = await harness.execute(sql`select 1 from pg_stat_activity where application_name = ${app}`);
    if (rows.length === 0) return;
    await sleep(20);
  }
  throw new Error(`backends of ${app} still there`);
}

describe("the patched driver (porsager/postgres#1199, #1215)", () => {
  const ONE = "creditloop-fault-one";
  let one: ReturnType<typeof createDb>;
  beforeAll(async () => {
    one = createDb(process.env.DATABASE_URL!, { max: 1, applicationName: ONE });
  });
  afterAll(async () => {
    await one.sql.end({ timeout: 5 });
  });
  const kill = () => harness.execute(sql`select pg_terminate_backend(pid) from pg_stat_activity where application_name = ${ONE}`);

  it("the query after a terminated one runs on a fresh session, without the old backend's error", async () => {
    const sleeping = one.sql`select pg_sleep(10)`.then(() => "done", (e: { code?: string }) => e.code);
    await sleep(200);
    await kill();
    expect(await sleeping).toMatch(/57P01|CONNECTION_CLOSED/); // the server said FATAL, then closed
    const [row] = await one.sql`select 1 as ok`;
    expect(row).toEqual({ ok: 1 });
  });

  it("a transaction whose connection was terminated cannot run its later statements in the next session", async () => {
    await harness.execute(sql`create table if not exists dbloss_scratch (tag text not null)`);
    let resumeA!: () => void;
    const aMayGoOn = new Promise<void>((r) => (resumeA = r));
    let aStarted!: () => void;
    const aIsIn = new Promise<void>((r) => (aStarted = r));
    const a = one.sql
      .begin(async (tx) => {
        await tx`insert into dbloss_scratch (tag) values ('A1')`;
        aStarted();
        await aMayGoOn;
        await tx`insert into dbloss_scratch (tag) values ('A2')`;
      })
      .then(() => "committed", (e: { code?: string }) => e.code ?? "error");
    await aIsIn;
    await kill();
    await waitUntilGone(ONE);
    expect(await Promise.race([a, sleep(2000).then(() => "still open")])).toMatch(/57P01|CONNECTION_CLOSED/);
    // The pool's only connection reconnects for B; A's callback then goes on.
    let resumeB!: () => void;
    const bMayCommit = new Promise<void>((r) => (resumeB = r));
    let bStarted!: () => void;
    const bIsIn = new Promise<void>((r) => (bStarted = r));
    const b = one.sql.begin(async (tx) => {
      await tx`insert into dbloss_scratch (tag) values ('B1')`;
      bStarted();
      await bMayCommit;
      await tx`insert into dbloss_scratch (tag) values ('B2')`;
    });
    await bIsIn;
    resumeA();
    await sleep(200);
    resumeB();
    await b;
    const rows = await harness.execute<{ tag: string }>(sql`select tag from dbloss_scratch order by tag`);
    expect(rows.map((r) => r.tag)).toEqual(["B1", "B2"]);
  });
});

describe("database connection loss", () => {
  it("terminating all of the app's connections several times under load: back to ≥ 80 % of the rate within 5 s, exactly once", { timeout: 120_000 }, async () => {
    const events = await makePaidEvents(harness, { count: RECOVERY_LOAD_EVENTS });
    const deliver: Deliver = async (payload, signature) => (await receiveStripeWebhook(app.db, payload, signature)).status;
    await fillPool(app.db, app.settings.max); // the rate before with the whole pool open, as after the reconnect (tests/support/webhook-load.ts)
    const run = startLoad({ events, deliver, secret: secret(), concurrency: 16, duplicateRatio: 0.3 });
    try {
      await sleep(1500); // warm-up: statements prepared
      const preFrom = performance.now();
      await sleep(3000);
      const pre = medianRate(run, preFrom, performance.now());
      expect(pre).toBeGreaterThan(0);

      let killed = 0;
      for (let k = 0; k < 7; k++) {
        killed += await killAppConnections();
        await sleep(400);
      }
      killed += await killAppConnections();
      const lastKill = performance.now();
      expect(killed).toBeGreaterThan(0);
      await sleep(6000);
      const observedTo = performance.now();
      const recovered = recoveryTime(run, lastKill, observedTo, 0.8 * pre);
      await run.stop();
      const failuresDuringFaults = run.failures.filter((f) => f.at >= preFrom).length;
      console.info(
        `pre-fault ${pre.toFixed(0)}/s; recovered to ≥80 % after ${recovered === null ? "never (6 s observed)" : `${recovered.toFixed(0)} ms`};` +
          ` ${killed} backends terminated; ${failuresDuringFaults} failed deliveries (retried);` +
          ` per second from the last kill: ${timeline(run, lastKill, observedTo)}`,
      );
      expect(run.attempted.size).toBeLessThan(events.length); // the load never ran out of events
      expect(recovered, "throughput back to 80 % of the pre-fault rate within 5 s of the last kill").not.toBeNull();
      expect(recovered!).toBeLessThanOrEqual(5000);
    } finally {
      await run.stop();
      // Stripe retries until acknowledged; then every paid purchase is credited exactly once.
      await redeliverUnacknowledged(run, events, deliver, secret(), 30_000);
    }
    expect(await exactlyOnceViolations(harness, run, events)).toEqual({ count: 0, first: [] });
  });
});
