// Every wait on the database is bounded and ends in an error lib/db-errors.ts calls transient
// (issue 10): a lock held past lock_timeout makes the webhook answer 500 with nothing written, and
// the retry after the lock is released succeeds; statement_timeout, idle_in_transaction_session_timeout,
// the pool-wait bound and connect_timeout each give a classified error; health reports 503 for a
// database it cannot reach and 200 again once it can.
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { eq, sql } from "drizzle-orm";
import postgres from "postgres";
import Stripe from "stripe";
import { createDb } from "@/db/client";
import { log } from "@/lib/log";
import { creditEntries, organizations, purchases, stripeEvents } from "@/db/schema";
import { runOrgAction } from "@/lib/actions/org-action";
import { classifyDbError, DB_UNAVAILABLE_MESSAGE } from "@/lib/db-errors";
import { startTopUpDef } from "@/lib/topups/actions";
import { checkDatabaseHealth } from "@/lib/db-health";
import { receiveStripeWebhook } from "@/lib/webhooks/receive";
import { useTestDatabase } from "../support/context";
import { makeOrg, makePack, makeUser } from "../support/fixtures";
import { makePaidEvents } from "../support/webhook-load";

const { db: harness } = useTestDatabase();
const url = () => process.env.DATABASE_URL!;
const sign = (payload: string) =>
  new Stripe("sk_test_x").webhooks.generateTestHeaderString({ payload, secret: process.env.STRIPE_WEBHOOK_SECRET!.split(",")[0]! });
const logLevel = log.level;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const failureOf = async (p: PromiseLike<unknown>) => {
  try {
    await p;
  } catch (e) {
    return classifyDbError(e) ?? { kind: "other", code: String((e as { code?: string }).code), message: String(e) };
  }
  return null;
};

const opened: { sql: postgres.Sql }[] = [];
function appDb(opts: Parameters<typeof createDb>[1]) {
  const handle = createDb(url(), opts);
  opened.push(handle);
  return handle;
}
beforeAll(() => {
  vi.spyOn(console, "error").mockImplementation(() => {});
  log.level = "silent"; // expected failures by the hundred; the assertions say what matters
});
afterAll(async () => {
  vi.restoreAllMocks();
  log.level = logLevel;
  await Promise.all(opened.map((h) => h.sql.end({ timeout: 5 })));
});

describe("database timeouts", () => {
  it("a row locked past lock_timeout: the webhook answers 500, nothing half-written; after release the retry succeeds", async () => {
    const app = appDb({ lockTimeoutMs: 300 });
    const [event] = await makePaidEvents(harness, { count: 1, orgs: 1 });
    const { purchaseId, payload } = event!;
    const holder = postgres(url(), { max: 1, onnotice: () => {} });
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    let locked!: () => void;
    const isLocked = new Promise<void>((r) => (locked = r));
    const holding = holder.begin(async (tx) => {
      await tx`select 1 from purchases where id = ${purchaseId} for update`;
      locked();
      await released;
    });
    try {
      await isLocked;
      const r = await receiveStripeWebhook(app.db, payload, sign(payload));
      expect(r).toMatchObject({ status: 500, body: { error: "database timeout; Stripe will retry" } });
      const [p] = await harness.select().from(purchases).where(eq(purchases.id, purchaseId));
      expect(p!.status).toBe("pending");
      expect(await harness.select().from(creditEntries)).toHaveLength(0);
      const [org] = await harness.select().from(organizations).where(eq(organizations.id, p!.orgId));
      expect(org!.balance).toBe(0);
      const [ev] = await harness.select().from(stripeEvents);
      expect(ev!.processedAt).toBeNull();
      expect(ev!.lastError).toMatch(/lock timeout/);
    } finally {
      release();
      await holding;
      await holder.end();
    }
    const retry = await receiveStripeWebhook(app.db, payload, sign(payload));
    expect(retry).toMatchObject({ status: 200, body: { result: "processed" } });
    expect(await harness.select().from(creditEntries).where(eq(creditEntries.purchaseId, purchaseId))).toHaveLength(1);
    const [p] = await harness.select().from(purchases).where(eq(purchases.id, purchaseId));
    expect(p!.status).toBe("succeeded");
  });

  it("statement_timeout ends a slow statement with a timeout error", async () => {
    const app = appDb({ statementTimeoutMs: 200 });
    expect(await failureOf(app.db.execute(sql`select pg_sleep(2)`))).toMatchObject({ kind: "timeout", code: "57014" });
    // The connection is fine afterwards.
    expect(await app.db.execute(sql`select 1 as one`)).toEqual([{ one: 1 }]);
  });

  it("idle_in_transaction_session_timeout ends a transaction left idle; its work is rolled back", async () => {
    const app = appDb({ idleInTransactionTimeoutMs: 200 });
    await harness.execute(sql`create table if not exists dbloss_idle (n int)`);
    const failure = await failureOf(
      app.db.transaction(async (tx) => {
        await tx.execute(sql`insert into dbloss_idle values (1)`);
        await sleep(600);
        await tx.execute(sql`insert into dbloss_idle values (2)`);
      }),
    );
    expect(failure?.kind).toMatch(/timeout|unavailable/);
    expect(await harness.execute(sql`select * from dbloss_idle`)).toHaveLength(0);
    expect(await app.db.execute(sql`select 1 as one`)).toEqual([{ one: 1 }]);
  });

  it("waiting for a pool slot is bounded: with every connection held, the next operation fails after acquireTimeoutMs", async () => {
    const app = appDb({ max: 1, acquireTimeoutMs: 200 });
    let release!: () => void;
    const held = app.db.transaction(() => new Promise<void>((r) => (release = r)));
    await sleep(50);
    expect(await failureOf(app.db.execute(sql`select 1`))).toMatchObject({ kind: "unavailable", code: "DB_ACQUIRE_TIMEOUT" });
    release();
    await held;
    expect(await app.db.execute(sql`select 1 as one`)).toEqual([{ one: 1 }]);
  });

  it("a server that accepts but never answers: connect_timeout ends the wait", async () => {
    const net = await import("node:net");
    const silent = net.createServer(() => {});
    await new Promise<void>((r) => silent.listen(0, "127.0.0.1", r));
    const port = (silent.address() as import("node:net").AddressInfo).port;
    const app = createDb(`postgres://x:y@127.0.0.1:${port}/x`, { connectTimeoutMs: 300, acquireTimeoutMs: 300 });
    try {
      expect(await failureOf(app.db.execute(sql`select 1`))).toMatchObject({ kind: "unavailable", code: "CONNECT_TIMEOUT" });
      const health = await checkDatabaseHealth(app.db, 1000);
      expect(health).toMatchObject({ ok: false });
    } finally {
      await app.sql.end({ timeout: 0 });
      silent.close();
    }
  });

  it("a server action while the database is unreachable answers 'try again', not a generic error", async () => {
    const org = await makeOrg(harness);
    const admin = await makeUser(harness, { orgId: org.id, role: "admin" });
    const pack = await makePack(harness);
    const refused = createDb("postgres://x:y@127.0.0.1:1/x", {});
    vi.spyOn(console, "warn").mockImplementation(() => {});
    try {
      const r = await runOrgAction(startTopUpDef, admin, { orgSlug: org.slug, packId: pack.id, requestId: crypto.randomUUID() }, refused.db);
      expect(r).toEqual({ ok: false, code: "internal", error: DB_UNAVAILABLE_MESSAGE });
    } finally {
      await refused.sql.end({ timeout: 0 });
    }
  });

  it("health: 200 through a working pool, 503-worthy (not ok) when the database refuses, within its bound", async () => {
    expect(await checkDatabaseHealth(appDb({}).db, 2000)).toMatchObject({ ok: true });
    const refused = createDb("postgres://x:y@127.0.0.1:1/x", {});
    try {
      const health = await checkDatabaseHealth(refused.db, 2000);
      expect(health).toMatchObject({ ok: false, reason: "ECONNREFUSED" });
    } finally {
      await refused.sql.end({ timeout: 0 });
    }
  });
});
