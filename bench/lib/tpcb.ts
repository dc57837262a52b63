// The database's own ceiling: a TPC-B-like transaction (pgbench's "tpcb-like" script: update an
// account, read it back, update its teller and branch, append history) through the same driver
// (postgres.js, its default prepared statements) on the same PostgreSQL server, in its own schema.
import { performance } from "node:perf_hooks";
import postgres from "postgres";

const BRANCHES = 16; // one branch per client up to 16 clients, as pgbench's scale factor
const TELLERS_PER_BRANCH = 10;
const ACCOUNTS_PER_BRANCH = 10_000;

export async function setupTpcb(url: string) {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    await sql.unsafe(`
      DROP SCHEMA IF EXISTS tpcb CASCADE;
      CREATE SCHEMA tpcb;
      CREATE TABLE tpcb.branches (bid int PRIMARY KEY, bbalance int NOT NULL, filler char(88)) WITH (fillfactor = 100);
      CREATE TABLE tpcb.tellers (tid int PRIMARY KEY, bid int NOT NULL, tbalance int NOT NULL, filler char(84)) WITH (fillfactor = 100);
      CREATE TABLE tpcb.accounts (aid int PRIMARY KEY, bid int NOT NULL, abalance int NOT NULL, filler char(84)) WITH (fillfactor = 100);
      CREATE TABLE tpcb.history (tid int, bid int, aid int, delta int, mtime timestamp, filler char(22));
      INSERT INTO tpcb.branches SELECT g, 0 FROM generate_series(1, ${BRANCHES}) g;
      INSERT INTO tpcb.tellers SELECT g, (g - 1) / ${TELLERS_PER_BRANCH} + 1, 0 FROM generate_series(1, ${BRANCHES * TELLERS_PER_BRANCH}) g;
      INSERT INTO tpcb.accounts SELECT g, (g - 1) / ${ACCOUNTS_PER_BRANCH} + 1, 0 FROM generate_series(1, ${BRANCHES * ACCOUNTS_PER_BRANCH}) g;
      ANALYZE tpcb.branches; ANALYZE tpcb.tellers; ANALYZE tpcb.accounts;`);
  } finally {
    await sql.end();
  }
}

/** Transactions per second with `clients` connections, each running transactions back to back. */
export async function runTpcb(url: string, clients: number, seconds: number): Promise<number> {
  const sql = postgres(url, { max: clients, onnotice: () => {} });
  const rnd = (n: number) => 1 + Math.floor(Math.random() * n);
  let done = 0;
  try {
    await Promise.all(Array.from({ length: clients }, () => sql`select 1`)); // open the connections first
    const t0 = performance.now();
    const end = t0 + seconds * 1000;
    await Promise.all(
      Array.from({ length: clients }, async () => {
        while (performance.now() < end) {
          const aid = rnd(BRANCHES * ACCOUNTS_PER_BRANCH);
          const tid = rnd(BRANCHES * TELLERS_PER_BRANCH);
          const bid = rnd(BRANCHES);
          const delta = rnd(10_000) - 5_000;
          await sql.begin(async (t) => {
            await t`UPDATE tpcb.accounts SET abalance = abalance + ${delta} WHERE aid = ${aid}`;
            await t`SELECT abalance FROM tpcb.accounts WHERE aid = ${aid}`;
            await t`UPDATE tpcb.tellers SET tbalance = tbalance + ${delta} WHERE tid = ${tid}`;
            await t`UPDATE tpcb.branches SET bbalance = bbalance + ${delta} WHERE bid = ${bid}`;
            await t`INSERT INTO tpcb.history (tid, bid, aid, delta, mtime) VALUES (${tid}, ${bid}, ${aid}, ${delta}, CURRENT_TIMESTAMP)`;
          });
          done++;
        }
      }),
    );
    return done / ((performance.now() - t0) / 1000);
  } finally {
    await sql.end();
  }
}
