// The launcher behind `npm run dev` (and `npm start` with --prod, and the e2e web server with
// --e2e): starts what is missing — embedded PostgreSQL unless DATABASE_URL is set, the Stripe
// emulator unless STRIPE_SECRET_KEY is set — migrates, seeds, and runs Next with the
// environment set. Next itself only ever reads the environment.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { ensurePostgres, type PgHandle } from "./pg";
import { registerWebhookEndpoint, startEmulatorProcess, type EmulatorHandle } from "./emulator-process";
import { localSecrets } from "./secrets";
import { runMigrations } from "../db/migrate";
import { DEMO_USERS, seed } from "../db/seed";

const args = new Set(process.argv.slice(2));
const mode: "dev" | "prod" | "e2e" = args.has("--e2e") ? "e2e" : args.has("--prod") ? "prod" : "dev";
const root = path.resolve(import.meta.dirname, "..");
const port = Number(process.env.PORT ?? (mode === "e2e" ? 3100 : 3000));
const profile = {
  dev: { pgDir: ".data/postgres", pgPort: 54329, db: "creditloop", emuPort: 12111, emuState: ".data/stripe-emulator/state.json", fresh: false },
  prod: { pgDir: ".data/postgres", pgPort: 54329, db: "creditloop", emuPort: 12111, emuState: ".data/stripe-emulator/state.json", fresh: false },
  e2e: { pgDir: ".data/postgres-e2e", pgPort: 54359, db: "creditloop_e2e", emuPort: 12199, emuState: ".data/stripe-emulator-e2e/state.json", fresh: true },
}[mode];

let pg: PgHandle | undefined;
let emulator: EmulatorHandle | undefined;
let next: ChildProcess | undefined;
let stopping = false;

async function shutdown(code: number) {
  if (stopping) return;
  stopping = true;
  next?.kill("SIGTERM");
  await emulator?.stop().catch(() => {});
  await pg?.stop().catch(() => {});
  process.exit(code);
}
process.on("SIGINT", () => void shutdown(0));
process.on("SIGTERM", () => void shutdown(0));

async function main() {
  process.chdir(root);
  const realStripe = Boolean(process.env.STRIPE_SECRET_KEY);
  const secrets = localSecrets();
  const env: NodeJS.ProcessEnv = { NEXT_TELEMETRY_DISABLED: "1", ...process.env, PORT: String(port) };
  env.NEXTAUTH_URL ??= `http://localhost:${port}`;
  env.NEXTAUTH_SECRET ??= secrets.nextAuthSecret;

  pg = await ensurePostgres({ dataDir: profile.pgDir, port: profile.pgPort, database: profile.db, fresh: profile.fresh });
  env.DATABASE_URL = pg.url;
  await runMigrations(pg.url);
  await seed(pg.url);

  if (realStripe) {
    if (!process.env.STRIPE_WEBHOOK_SECRET) {
      throw new Error(
        "STRIPE_WEBHOOK_SECRET is required with STRIPE_SECRET_KEY.\n" +
          `Run: stripe listen --forward-to localhost:${port}/api/stripe/webhook  and export the whsec_… it prints.`,
      );
    }
  } else {
    if (profile.fresh) fs.rmSync(path.dirname(profile.emuState), { recursive: true, force: true });
    emulator = await startEmulatorProcess({ port: profile.emuPort, stateFile: profile.emuState, retryMs: mode === "e2e" ? "500,1000,2000" : undefined });
    env.STRIPE_EMULATOR_URL = emulator.url;
    env.STRIPE_WEBHOOK_SECRET = secrets.webhookSecret;
    await registerWebhookEndpoint(emulator.url, `http://localhost:${port}/api/stripe/webhook`, secrets.webhookSecret);
    emulator.child.on("exit", (code) => {
      if (!stopping) {
        console.error(`Stripe emulator stopped unexpectedly (exit ${code}).`);
        void shutdown(1);
      }
    });
  }

  const nextBin = path.join(root, "node_modules/.bin/next");
  if (mode !== "dev" && (mode === "e2e" || !fs.existsSync(path.join(root, ".next/BUILD_ID")))) {
    const build = spawnSync(nextBin, ["build"], { stdio: "inherit", env });
    if (build.status !== 0) throw new Error("next build failed");
  }
  banner(realStripe, pg.external);
  next = spawn(nextBin, [mode === "dev" ? "dev" : "start", "--port", String(port)], { stdio: "inherit", env });
  next.on("exit", (code) => void shutdown(code ?? 0));
}

function banner(realStripe: boolean, externalDb: boolean) {
  const lines = [
    "",
    `  Creditloop  →  http://localhost:${port}`,
    `  Stripe:    ${realStripe ? "real Stripe (STRIPE_SECRET_KEY)" : `local emulator at ${emulator?.url}`}`,
    `  Database:  ${externalDb ? "DATABASE_URL" : `embedded PostgreSQL (${profile.pgDir}, port ${profile.pgPort})`}`,
    "",
    "  Demo sign-ins:",
    ...DEMO_USERS.map((u) => `    ${u.email.padEnd(24)} ${u.password}   ${u.label}`),
    "",
  ];
  if (realStripe) lines.push(`  Webhooks: stripe listen --forward-to localhost:${port}/api/stripe/webhook`, "");
  console.log(lines.join("\n"));
}

main().catch(async (e) => {
  console.error(e instanceof Error ? e.message : e);
  await shutdown(1);
});
