// Benchmarks (not tests): webhook processing throughput with and without duplicate deliveries,
// and guarded debits under contention, against a real PostgreSQL (embedded unless DATABASE_URL).
// Prints figures and ratios; asserts nothing about speed.
import { performance } from "node:perf_hooks";
import { eq, sql } from "drizzle-orm";
import Stripe from "stripe";
import { ensurePostgres } from "../scripts/pg";
import { PORTS } from "../scripts/ports";
import { runMigrations } from "../db/migrate";
import { createDb } from "../db/client";
import { creditPacks, organizations, purchases, users } from "../db/schema";

const WEBHOOK_SECRET = "whsec_bench_secret";
Object.assign(process.env, {
  STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET,
  STRIPE_EMULATOR_URL: process.env.STRIPE_EMULATOR_URL ?? "http://127.0.0.1:1",
  NEXTAUTH_SECRET: "bench-secret-0123456789",
});

const N = Number(process.env.BENCH_EVENTS ?? 400);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 8);

async function pool<T>(items: T[], n: number, fn: (t: T) => Promise<unknown>) {
  let i = 0;
  await Promise.all(Array.from({ length: n }, async () => { while (i < items.length) await fn(items[i++]!); }));
}

function percentile(xs: number[], p: number) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}

async function main() {
  const pg = await ensurePostgres({ dataDir: ".data/postgres-bench", port: PORTS.benchPg, database: "creditloop_bench" });
  process.env.DATABASE_URL = pg.url;
  await runMigrations(pg.url);
  const { db, sql: client } = createDb(pg.url, { max: 20 });
  const { receiveStripeWebhook } = await import("../lib/webhooks/receive");
  const { grantCredits, debitCredits } = await import("../lib/ledger/ledger");
  const stripe = new Stripe("sk_test_bench");
  try {
    const tables = await db.execute<{ tablename: string }>(sql`select tablename from pg_tables where schemaname = 'public'`);
    await db.execute(sql.raw(`TRUNCATE ${tables.map((t) => `"${t.tablename}"`).join(", ")} RESTART IDENTITY CASCADE`));
    const [org] = await db.insert(organizations).values({ slug: "bench", name: "Bench" }).returning();
    const spread = await db
      .insert(organizations)
      .values(Array.from({ length: 50 }, (_, i) => ({ slug: `bench-${i}`, name: `Bench ${i}` })))
      .returning();
    const [user] = await db.insert(users).values({ email: "bench@example.test", name: "b", passwordHash: "x" }).returning();
    const [pack] = await db.insert(creditPacks).values({ slug: "bench", name: "Bench", credits: 10, amount: 1000 }).returning();

    async function makeEvents(tag: string, orgIds: string[] = [org!.id]) {
      const rows = await db
        .insert(purchases)
        .values(Array.from({ length: N }, (_, i) => ({
          orgId: orgIds[i % orgIds.length]!, userId: user!.id, packId: pack!.id, requestId: crypto.randomUUID(), credits: 10, subtotal: 1000, amount: 1000,
          currency: "usd", stripePaymentIntentId: `pi_bench_${tag}_${i}`,
        })))
        .returning();
      return rows.map((p, i) => JSON.stringify({
        id: `evt_bench_${tag}_${i}`, object: "event", api_version: Stripe.API_VERSION, created: Math.floor(Date.now() / 1000), livemode: false,
        pending_webhooks: 1, request: { id: null, idempotency_key: null }, type: "payment_intent.succeeded",
        data: { object: { id: p.stripePaymentIntentId, object: "payment_intent", status: "succeeded", amount: 1000, amount_received: 1000, currency: "usd", metadata: { purchase_id: p.id } } },
      }));
    }
    const deliver = async (payload: string, latencies: number[]) => {
      const t = performance.now();
      const header = stripe.webhooks.generateTestHeaderString({ payload, secret: WEBHOOK_SECRET });
      const r = await receiveStripeWebhook(db, payload, header);
      latencies.push(performance.now() - t);
      if (r.status !== 200) throw new Error(`webhook answered ${r.status}`);
    };

    // 1. Distinct events.
    const distinct = await makeEvents("a");
    const lat1: number[] = [];
    let t0 = performance.now();
    await pool(distinct, CONCURRENCY, (p) => deliver(p, lat1));
    const s1 = (performance.now() - t0) / 1000;

    // 1b. Distinct events spread over 50 organisations (no contention on one balance row).
    const spreadEvents = await makeEvents("s", spread.map((o) => o.id));
    const lat1b: number[] = [];
    t0 = performance.now();
    await pool(spreadEvents, CONCURRENCY, (p) => deliver(p, lat1b));
    const s1b = (performance.now() - t0) / 1000;

    // 2. Every event delivered 3 times, concurrently (Stripe duplicates + retries).
    const dup = (await makeEvents("b")).flatMap((p) => [p, p, p]);
    const lat2: number[] = [];
    t0 = performance.now();
    await pool(dup, CONCURRENCY, (p) => deliver(p, lat2));
    const s2 = (performance.now() - t0) / 1000;

    const [{ n, sum }] = (await db.execute<{ n: number; sum: number }>(sql`select count(*)::int n, coalesce(sum(amount),0)::int sum from credit_entries`)) as unknown as [{ n: number; sum: number }];
    console.log(`webhooks, ${N} distinct events, concurrency ${CONCURRENCY}: ${(N / s1).toFixed(0)} events/s, p50 ${percentile(lat1, 50).toFixed(1)} ms, p99 ${percentile(lat1, 99).toFixed(1)} ms`);
    console.log(`webhooks, ${N} events × 3 deliveries: ${(dup.length / s2).toFixed(0)} deliveries/s, p50 ${percentile(lat2, 50).toFixed(1)} ms, p99 ${percentile(lat2, 99).toFixed(1)} ms`);
    console.log(`webhooks, ${N} distinct events over 50 organisations: ${(N / s1b).toFixed(0)} events/s, p50 ${percentile(lat1b, 50).toFixed(1)} ms, p99 ${percentile(lat1b, 99).toFixed(1)} ms`);
    console.log(`  ledger entries ${n} (expected ${3 * N}), credits ${sum} (expected ${3 * N * 10})`);
    console.log(`  a duplicate delivery costs ${((s2 / dup.length) / (s1 / N)).toFixed(2)}× the time of a distinct one (same organisation)`);

    // 3. Guarded debits under contention on one organisation.
    await db.transaction((tx) => grantCredits(tx, { orgId: org!.id, amount: 100_000, kind: "bonus", idempotencyKey: "bench:grant", description: "bench" }));
    const debits = Array.from({ length: 2000 }, (_, i) => i);
    let refused = 0;
    t0 = performance.now();
    await pool(debits, 16, async (i) => {
      const e = await db.transaction((tx) => debitCredits(tx, { orgId: org!.id, credits: 7, idempotencyKey: `bench:d:${i}`, description: "bench" }));
      if (!e) refused++;
    });
    const s3 = (performance.now() - t0) / 1000;
    const [bal] = await db.select({ b: organizations.balance }).from(organizations).where(eq(organizations.id, org!.id));
    console.log(`guarded debits, 2000 on one organisation, 16 concurrent: ${(2000 / s3).toFixed(0)} debits/s; refused ${refused}; final balance ${bal!.b} (never below 0)`);
  } finally {
    await client.end();
    await pg.stop();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
