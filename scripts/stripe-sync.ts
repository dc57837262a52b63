// npm run stripe:sync — pushes the plan catalogue (lib/plans/catalogue.ts) to Stripe as products
// and prices with lookup keys, and mirrors their ids in the database (plans, plan_prices).
// Idempotent: a second run changes nothing. Targets, in the app's own order: STRIPE_SECRET_KEY
// (real Stripe), else STRIPE_EMULATOR_URL, else the emulator `npm run dev` runs
// (http://127.0.0.1:<devEmulator port>). The database is DATABASE_URL, else the embedded dev one.
// `npm run dev` calls syncStripeCatalogue() after the emulator starts.
import { pathToFileURL } from "node:url";
import Stripe from "stripe";
import { createDb } from "../db/client";
import { syncCatalogue, type SyncReport } from "../lib/plans/sync";
import { PORTS } from "./ports";

export function catalogueStripeClient(env: NodeJS.ProcessEnv = process.env): { client: Stripe; target: string } {
  const common = { apiVersion: Stripe.API_VERSION, maxNetworkRetries: 2, appInfo: { name: "Creditloop stripe:sync" } } as const;
  if (env.STRIPE_SECRET_KEY) return { client: new Stripe(env.STRIPE_SECRET_KEY, common), target: env.STRIPE_SECRET_KEY.includes("_live_") ? "Stripe (live)" : "Stripe (test mode)" };
  const url = new URL(env.STRIPE_EMULATOR_URL || `http://127.0.0.1:${PORTS.devEmulator}`);
  const client = new Stripe("sk_test_creditloop_local_emulator", {
    ...common,
    host: url.hostname,
    port: url.port || (url.protocol === "https:" ? 443 : 80),
    protocol: url.protocol === "https:" ? "https" : "http",
  });
  return { client, target: `the local emulator at ${url.origin}` };
}

export async function syncStripeCatalogue(databaseUrl: string, env: NodeJS.ProcessEnv = process.env): Promise<SyncReport & { target: string }> {
  const { client, target } = catalogueStripeClient(env);
  const { db, sql } = createDb(databaseUrl, { max: 2 });
  try {
    return { ...(await syncCatalogue(db, client)), target };
  } finally {
    await sql.end();
  }
}

export function describeSync(r: SyncReport & { target: string }): string {
  if (r.created.length + r.updated.length === 0) return `Plans: ${r.target} already matches the catalogue (${r.unchanged.length} objects).`;
  return `Plans synced to ${r.target}: ${r.created.length} created, ${r.updated.length} updated, ${r.unchanged.length} unchanged.`;
}

async function main() {
  const { ensurePostgres } = await import("./pg");
  const { runMigrations } = await import("../db/migrate");
  const pg = await ensurePostgres({ dataDir: ".data/postgres", port: PORTS.devPg, database: "creditloop" });
  try {
    await runMigrations(pg.url);
    const report = await syncStripeCatalogue(pg.url);
    for (const line of [...report.created.map((c) => `  created ${c}`), ...report.updated.map((u) => `  updated ${u}`)]) console.log(line);
    console.log(describeSync(report));
  } finally {
    await pg.stop();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((e) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  });
}
