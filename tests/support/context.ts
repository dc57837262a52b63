// Shared pieces for integration tests: one database handle for the file, a clean database
// before each test, and after each test the ledger invariants: balance = SUM(entries) for every
// organisation, the daily totals equal the aggregate of the entries, and each organisation's
// expiring credits equal what is left in its live buckets.
import { afterAll, afterEach, beforeEach, expect } from "vitest";
import { sql } from "drizzle-orm";
import { createDb } from "@/db/client";
import { findBalanceMismatches, findDailyTotalMismatches, findExpiringCreditMismatches } from "@/lib/ledger/queries";
import { resetEmulator } from "./emulator";

export function useTestDatabase() {
  const handle = createDb(process.env.DATABASE_URL!, { max: 30 });
  beforeEach(async () => {
    await resetDatabase(handle.db);
    await resetEmulator();
  });
  afterEach(async () => {
    expect(await findBalanceMismatches(handle.db)).toEqual([]);
    expect(await findDailyTotalMismatches(handle.db)).toEqual([]);
    expect(await findExpiringCreditMismatches(handle.db)).toEqual([]);
  });
  afterAll(async () => {
    await handle.sql.end();
  });
  return handle;
}

async function resetDatabase(db: ReturnType<typeof createDb>["db"]) {
  const rows = await db.execute<{ tablename: string }>(
    sql`select tablename from pg_tables where schemaname = 'public'`,
  );
  const tables = rows.map((r) => `"${r.tablename}"`).join(", ");
  if (tables) await db.execute(sql.raw(`TRUNCATE ${tables} RESTART IDENTITY CASCADE`));
  // Jobs of earlier tests (lib/jobs) must not run against this test's rows.
  await db.execute(sql.raw(`DELETE FROM pgboss.job`));
}
