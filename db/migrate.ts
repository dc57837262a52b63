// Applies the committed drizzle-kit migrations in db/migrations.
import path from "node:path";
import { fileURLToPath } from "node:url";
import { migrate } from "drizzle-orm/postgres-js/migrator";
import { createDb } from "./client";

const migrationsFolder = path.join(path.dirname(fileURLToPath(import.meta.url)), "migrations");

export async function runMigrations(databaseUrl: string): Promise<void> {
  // Migration files hold several statements and run once: no prepared statements.
  const { db, sql } = createDb(databaseUrl, { max: 1, sessionTimeouts: false, preparedStatements: false });
  try {
    await migrate(db, { migrationsFolder });
  } finally {
    await sql.end();
  }
}
