// The app's statements are named prepared statements (db/client.ts): PostgreSQL parses and plans
// each statement text once per connection instead of on every execution (drizzle asks for
// unnamed statements otherwise). Inside transactions too, where the webhook's work happens.
// DB_PREPARED_STATEMENTS=off turns it off (poolers that cannot keep them).
import { afterAll, describe, expect, it } from "vitest";
import { sql } from "drizzle-orm";
import { createDb, dbSettingsFromEnv } from "@/db/client";

const on = createDb(process.env.DATABASE_URL!, { max: 1 });
const off = createDb(process.env.DATABASE_URL!, { max: 1, preparedStatements: false });
afterAll(async () => {
  await on.sql.end();
  await off.sql.end();
});

const marker = () => `prepared_marker_${crypto.randomUUID().replaceAll("-", "")}`;

async function preparedWith(db: typeof on.db, text: string) {
  const rows = await db.execute<{ n: number }>(sql`select count(*)::int as n from pg_prepared_statements where statement like ${`%${text}%`} and statement not like '%pg_prepared_statements%'`);
  return rows[0]!.n;
}

describe("prepared statements", () => {
  it("a statement run in a transaction and on its own is prepared once on its connection", async () => {
    const m = marker();
    await on.db.transaction(async (tx) => {
      await tx.execute(sql`select ${1}::int as ${sql.raw(m)}`);
      await tx.execute(sql`select ${2}::int as ${sql.raw(m)}`);
    });
    await on.db.execute(sql`select ${3}::int as ${sql.raw(m)}`);
    expect(await preparedWith(on.db, m)).toBe(1);
  });

  it("off: nothing is kept prepared", async () => {
    const m = marker();
    await off.db.transaction(async (tx) => {
      await tx.execute(sql`select ${1}::int as ${sql.raw(m)}`);
    });
    await off.db.execute(sql`select ${1}::int as ${sql.raw(m)}`);
    expect(await preparedWith(off.db, m)).toBe(0);
  });

  it("DB_PREPARED_STATEMENTS is on by default and accepts only on or off", () => {
    expect(dbSettingsFromEnv({}).preparedStatements).toBe(true);
    expect(dbSettingsFromEnv({ DB_PREPARED_STATEMENTS: "off" }).preparedStatements).toBe(false);
    expect(() => dbSettingsFromEnv({ DB_PREPARED_STATEMENTS: "yes" })).toThrow(/on" or "off/);
  });
});
