// npm run db:seed — idempotent demo data in DATABASE_URL or the embedded dev database.
import { ensurePostgres } from "./pg";
import { runMigrations } from "../db/migrate";
import { DEMO_USERS, seed } from "../db/seed";
import { PORTS } from "./ports";

const pg = await ensurePostgres({ dataDir: ".data/postgres", port: PORTS.devPg, database: "creditloop" });
try {
  await runMigrations(pg.url);
  await seed(pg.url);
  console.log(`Seeded. Demo sign-ins: ${DEMO_USERS.map((u) => u.email).join(", ")} (password ${DEMO_USERS[0]!.password})`);
} finally {
  await pg.stop();
}
