// npm run db:migrate — applies committed migrations to DATABASE_URL or the embedded dev database.
import { ensurePostgres } from "./pg";
import { runMigrations } from "../db/migrate";
import { PORTS } from "./ports";

const pg = await ensurePostgres({ dataDir: ".data/postgres", port: PORTS.devPg, database: "creditloop" });
try {
  await runMigrations(pg.url);
  console.log("Migrations applied.");
} finally {
  await pg.stop();
}
