// npm run db:seed — idempotent demo data (lib/demo/seed.ts) in DATABASE_URL or the embedded dev
// database. Demo data is for dev and preview only: refused when the environment says production.
import { ensurePostgres } from "./pg";
import { runMigrations } from "../db/migrate";
import { DEMO_USERS, seed } from "../lib/demo/seed";
import { demoAccessAllowed } from "../lib/deployment";
import { PORTS } from "./ports";

if (!demoAccessAllowed(process.env)) {
  console.error("db:seed: refusing to seed demo accounts into a production deployment (CREDITLOOP_DEPLOYMENT/NODE_ENV say production).");
  process.exit(2);
}
const pg = await ensurePostgres({ dataDir: ".data/postgres", port: PORTS.devPg, database: "creditloop" });
try {
  await runMigrations(pg.url);
  await seed(pg.url);
  console.log(`Seeded. Demo sign-ins: ${DEMO_USERS.map((u) => u.email).join(", ")} (password ${DEMO_USERS[0]!.password})`);
} finally {
  await pg.stop();
}
