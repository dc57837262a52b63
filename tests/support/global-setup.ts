// Integration tests run against a real PostgreSQL (embedded, own data dir and port, database
// re-created each run) and the local Stripe emulator, started in-process on a free port with a
// short retry schedule. The environment set here is what lib/env.ts reads in the test workers.
import type { TestProject } from "vitest/node";
import { ensurePostgres } from "../../scripts/pg";
import { runMigrations } from "../../db/migrate";
import { startEmulator } from "../../emulator/server";

export default async function setup(_project: TestProject) {
  const pg = await ensurePostgres({ dataDir: ".data/postgres-test", port: 54339, database: "creditloop_test", fresh: true });
  await runMigrations(pg.url);
  const emulator = await startEmulator({ port: 0, stateFile: null, retryScheduleMs: [200, 400, 800] });
  Object.assign(process.env, {
    DATABASE_URL: pg.url,
    STRIPE_EMULATOR_URL: emulator.url,
    STRIPE_WEBHOOK_SECRET: "whsec_test_integration_secret",
    NEXTAUTH_SECRET: "integration-test-secret-0123456789",
    NEXTAUTH_URL: "http://localhost:3000",
  });
  delete process.env.STRIPE_SECRET_KEY;
  delete process.env.NEXT_PUBLIC_STRIPE_PUBLISHABLE_KEY;
  return async () => {
    await emulator.close();
    await pg.stop();
  };
}
