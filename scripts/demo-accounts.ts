// Which of the demo accounts (lib/demo/accounts.ts) a database holds. `npm start` refuses to
// serve such a database: demo data belongs to dev and preview only.
import { inArray } from "drizzle-orm";
import { createDb } from "../db/client";
import { users } from "../db/schema";
import { DEMO_EMAILS } from "../lib/demo/accounts";

export async function demoAccountsIn(databaseUrl: string): Promise<string[]> {
  const { db, sql } = createDb(databaseUrl, { max: 1 });
  try {
    const rows = await db.select({ email: users.email }).from(users).where(inArray(users.email, [...DEMO_EMAILS]));
    return rows.map((r) => r.email).sort();
  } finally {
    await sql.end();
  }
}
