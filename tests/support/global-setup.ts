// Integration tests run against a real PostgreSQL (embedded, own data dir and port, so dev data
// is never touched and `npm run dev` may keep running; the database is dropped and re-created
// each run, then migrated) and the local Stripe emulator, started in-process on a free port with
// a short retry schedule. DATABASE_URL is ignored (it may be a development database); set
// TEST_DATABASE_URL to run against another PostgreSQL — its schemas are dropped and re-created.
//
// The environment reaches the test workers two ways: process.env set here (vitest forks its
// workers after global setup, copying process.env), and `provide("testEnv")`, which
// tests/support/setup.ts copies into process.env when it is listed in setupFiles.
import type { TestProject } from "vitest/node";
import { ensurePostgres } from "../../scripts/pg";
import { PORTS } from "../../scripts/ports";
import { runMigrations } from "../../db/migrate";
import { startEmulator } from "../../emulator/server";
import { installJobQueue } from "../../lib/jobs/workers";

export type TestEnv = {
  DATABASE_URL: string;
  STRIPE_EMULATOR_URL: string;
  STRIPE_WEBHOOK_SECRET: string;
  NEXTAUTH_SECRET: string;
  NEXTAUTH_URL: string;
};

declare module "vitest" {
  export interface ProvidedContext {
    testEnv: TestEnv;
  }
}

export default async function setup(project: TestProject) {
  const pg = await ensurePostgres({ dataDir: ".data/postgres-test", port: PORTS.testPg, database: "creditloop_test", fresh: true, urlEnv: "TEST_DATABASE_URL" });
  try {
    await runMigrations(pg.url);
    await installJobQueue(pg.url);
  } catch (e) {
    await pg.stop();
    throw e;
  }
  const emulator = await startEmulator({ port: 0, stateFile: null, retryScheduleMs: [200, 400, 800] });
  const env: TestEnv = {
    DATABASE_URL: pg.url,
    STRIPE_EMULATOR_URL: emulator.url,
    STRIPE_WEBHOOK_SECRET: "whsec_test_integration_secret",
    NEXTAUTH_SECRET: "integration-test-secret-0123456789",
    NEXTAUTH_URL: "http://localhost:3000",
  };
  Object.assign(process.env, env);
  // Always the local emulator, whatever the developer's shell says.
  delete process.env.STRIPE_SECRET_KEY;
  delete process.env.NEXT_PUBLIC_STRIPE_PUBLISHABLE_KEY;
  project.provide("testEnv", env);
  return async () => {
    await emulator.close();
    await pg.stop();
  };
}
