// Database helpers for integration tests.
import { sql } from "drizzle-orm";
import type { Db } from "@/db/client";

/**
 * Empties every table of the public schema (found in information_schema, so it follows the
 * schema as it changes) in one statement, resetting sequences. Drizzle's own migrations table is
 * kept wherever it lives, so the schema stays migrated.
 */
export async function truncateAll(db: Db): Promise<void> {
  const rows = await db.execute<{ table_name: string }>(sql`
    select table_name from information_schema.tables
    where table_schema = 'public' and table_type = 'BASE TABLE' and table_name <> '__drizzle_migrations'
    order by table_name`);
  const tables = [...rows].map((r) => `"public"."${r.table_name.replaceAll('"', '""')}"`);
  if (tables.length) await db.execute(sql.raw(`TRUNCATE ${tables.join(", ")} RESTART IDENTITY CASCADE`));
}
