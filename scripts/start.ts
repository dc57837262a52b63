// npm start — the production server: checks the environment, applies the committed migrations
// to DATABASE_URL, checks the database holds no demo accounts and no live demo API key, then runs `next start` on the
// build in .next (`npm run build`). It never
// seeds, never starts the Stripe emulator or an embedded database, and refuses to start — exit
// code 2, one line per problem on stderr — when the environment is incomplete or inconsistent
// (lib/deployment.ts, productionProblems), when there is no build, or when the database holds
// the demo accounts or the unrevoked demo API key that dev/preview seed. The check runs before anything heavy is loaded, so a
// bad environment fails at once.
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { productionProblems } from "../lib/deployment";

const root = path.resolve(import.meta.dirname, "..");
const DIST_DIR = ".next";

function refuse(problems: string[]): never {
  for (const p of problems) process.stderr.write(`npm start: ${p}\n`);
  process.stderr.write("npm start: refusing to start the production server (npm run preview runs a local demo).\n");
  process.exit(2);
}

async function main() {
  process.chdir(root);
  const env: NodeJS.ProcessEnv = { NEXT_TELEMETRY_DISABLED: "1", ...process.env };
  const problems = productionProblems(env);
  if (problems.length > 0) refuse(problems);
  env.CREDITLOOP_DEPLOYMENT = "production";
  (env as Record<string, string | undefined>).NODE_ENV = "production";
  // The production build is .next whatever the shell says (preview builds live elsewhere).
  delete env.CREDITLOOP_DIST_DIR;

  const { runMigrations } = await import("../db/migrate");
  const { demoAccountsIn, demoApiKeyIn, DEMO_API_KEY_HASH } = await import("./demo-accounts");
  const { log } = await import("../lib/log");
  await runMigrations(env.DATABASE_URL!);
  log.info("migrations applied");
  const demoProblems: string[] = [];
  const demo = await demoAccountsIn(env.DATABASE_URL!);
  if (demo.length > 0) {
    demoProblems.push(
      `The database holds the demo accounts ${demo.join(", ")}: it was seeded for dev/preview. ` +
        "Production never serves demo accounts: use a database of its own, or delete these users.",
    );
  }
  // Checked on its own: deleting the demo users leaves the key, and anyone who read the source
  // could spend its organisation's credits through the delivery API. (The server refuses the key
  // in production anyway, lib/api-keys/service.ts; a live one here still means demo data.)
  const demoKey = await demoApiKeyIn(env.DATABASE_URL!);
  if (demoKey) {
    demoProblems.push(
      `The database holds the demo API key ${demoKey.prefix}… of ${demoKey.orgName} (${demoKey.orgSlug}), whose secret is published in the source: ` +
        `use a database of its own, or revoke the key: UPDATE api_keys SET revoked_at = now() WHERE key_hash = '${DEMO_API_KEY_HASH}';`,
    );
  }
  if (demoProblems.length > 0) refuse(demoProblems);

  if (!fs.existsSync(path.join(root, DIST_DIR, "BUILD_ID"))) refuse([`No production build in ${DIST_DIR}: run npm run build first.`]);

  const port = env.PORT || "3000";
  const next = spawn(path.join(root, "node_modules/.bin/next"), ["start", "--port", port], { stdio: "inherit", env });
  let stopping = false;
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    process.on(signal, () => {
      stopping = true;
      next.kill(signal);
    });
  }
  next.on("exit", (code, signal) => {
    if (code !== 0 && !stopping) log.error({ exitCode: code, signal }, "next start exited");
    process.exit(code ?? 1);
  });
}

main().catch((e) => {
  process.stderr.write(`npm start: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
