// The database client. createDb builds one from a URL (scripts, tests); getDb is the app's
// process-wide instance from DATABASE_URL, kept on globalThis so dev reloads do not leak pools.
//
// No caller waits on the database without bound (issue 10, README "Database timeouts and the
// driver fix"):
// - a top-level query or transaction first takes one of `max` permits, waiting at most
//   `acquireTimeoutMs` (postgres.js has no bound on its own queue), so at most `max` operations
//   are in the driver at once and each has a connection of its own;
// - connecting is bounded by `connectTimeoutMs` (postgres.js connect_timeout), and reconnect
//   back-off is capped at 1 s (the driver's default grows to 20 s after repeated failures, which
//   kept the pool away from a database that was back);
// - every session runs with statement_timeout, lock_timeout and
//   idle_in_transaction_session_timeout (startup parameters, so they hold on every reconnect);
// - the whole operation (permit + connect + statements) is bounded by `operationTimeoutMs`,
//   which also covers a server that stops answering without closing the socket.
// Each bound fails with an error lib/db-errors.ts classifies ("unavailable" or "timeout"), so the
// webhook answers 500 (Stripe retries), pages and actions show "try again", jobs retry.
// The `postgres` driver itself is patched (patches/postgres+3.4.9.patch, porsager/postgres#1199):
// without it a pool whose connections were terminated never recovers.
import postgres from "postgres";
import { drizzle } from "drizzle-orm/postgres-js";
import * as schema from "./schema";

export type DbSettings = {
  /** Pool size (DB_POOL_MAX, default 10). */
  max: number;
  /** pg_stat_activity.application_name of the pool's sessions. */
  applicationName: string;
  /** Wait for a free pool slot (DB_ACQUIRE_TIMEOUT_MS, default 5000). */
  acquireTimeoutMs: number;
  /** TCP connect + startup of one connection (DB_CONNECT_TIMEOUT_MS, default 5000). */
  connectTimeoutMs: number;
  /** Server-side bound on one statement (DB_STATEMENT_TIMEOUT_MS, default 15000; 0 = none). */
  statementTimeoutMs: number;
  /** Server-side bound on waiting for a row or table lock (DB_LOCK_TIMEOUT_MS, default 5000). */
  lockTimeoutMs: number;
  /** A transaction left open and idle is ended by the server (DB_IDLE_IN_TRANSACTION_TIMEOUT_MS, default 30000). */
  idleInTransactionTimeoutMs: number;
  /** Whole top-level operation, client side (DB_OPERATION_TIMEOUT_MS, default 30000; 0 = none). */
  operationTimeoutMs: number;
  /**
   * Named prepared statements (DB_PREPARED_STATEMENTS, default on; "off" behind a pooler in
   * transaction mode that cannot keep them, e.g. PgBouncer before 1.21). Drizzle asks postgres.js
   * for unnamed statements unless a query is given a name, so PostgreSQL would parse and plan
   * every statement of every transaction again; on the webhook's hot path that was most of the
   * database's CPU (docs/benchmarks.md). With this on, each connection parses a statement once.
   */
  preparedStatements: boolean;
};

export const DB_DEFAULTS: DbSettings = {
  max: 10,
  applicationName: "creditloop",
  acquireTimeoutMs: 5_000,
  connectTimeoutMs: 5_000,
  statementTimeoutMs: 15_000,
  lockTimeoutMs: 5_000,
  idleInTransactionTimeoutMs: 30_000,
  operationTimeoutMs: 30_000,
  preparedStatements: true,
};

const ENV_NAMES: Record<Exclude<keyof DbSettings, "applicationName" | "preparedStatements">, string> = {
  max: "DB_POOL_MAX",
  acquireTimeoutMs: "DB_ACQUIRE_TIMEOUT_MS",
  connectTimeoutMs: "DB_CONNECT_TIMEOUT_MS",
  statementTimeoutMs: "DB_STATEMENT_TIMEOUT_MS",
  lockTimeoutMs: "DB_LOCK_TIMEOUT_MS",
  idleInTransactionTimeoutMs: "DB_IDLE_IN_TRANSACTION_TIMEOUT_MS",
  operationTimeoutMs: "DB_OPERATION_TIMEOUT_MS",
};

/** The settings from the environment (each DB_* variable optional, a non-negative integer). */
export function dbSettingsFromEnv(env: Record<string, string | undefined> = process.env): DbSettings {
  const out: DbSettings = { ...DB_DEFAULTS, applicationName: env.DB_APPLICATION_NAME || DB_DEFAULTS.applicationName };
  const prepared = env.DB_PREPARED_STATEMENTS;
  if (prepared !== undefined && prepared !== "") {
    if (prepared !== "on" && prepared !== "off") throw new Error(`DB_PREPARED_STATEMENTS must be "on" or "off" (got "${prepared}")`);
    out.preparedStatements = prepared === "on";
  }
  for (const [key, name] of Object.entries(ENV_NAMES) as [keyof typeof ENV_NAMES, string][]) {
    const raw = env[name];
    if (raw === undefined || raw === "") continue;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 0 || (key === "max" && n < 1)) {
      throw new Error(`${name} must be a ${key === "max" ? "positive" : "non-negative"} integer (got "${raw}")`);
    }
    out[key] = n;
  }
  return out;
}

/** A bound of the client side was reached; `code` says which. Classified by lib/db-errors.ts. */
export class DbClientTimeoutError extends Error {
  constructor(
    readonly code: "DB_ACQUIRE_TIMEOUT" | "DB_OPERATION_TIMEOUT",
    message: string,
  ) {
    super(message);
    this.name = "DbClientTimeoutError";
  }
}

/** At most `permits` operations at once; a waiter gives up after `timeoutMs`. */
class Gate {
  private free: number;
  private readonly waiters: { grant: () => void }[] = [];
  constructor(
    permits: number,
    private readonly timeoutMs: number,
  ) {
    this.free = permits;
  }

  private acquire(): Promise<void> {
    if (this.free > 0) {
      this.free--;
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      const waiter = { grant: () => (clearTimeout(timer), resolve()) };
      const timer = setTimeout(() => {
        const i = this.waiters.indexOf(waiter);
        if (i >= 0) this.waiters.splice(i, 1);
        reject(new DbClientTimeoutError("DB_ACQUIRE_TIMEOUT", `no database connection free within ${this.timeoutMs} ms`));
      }, this.timeoutMs);
      this.waiters.push(waiter);
    });
  }

  private release() {
    const next = this.waiters.shift();
    if (next) next.grant();
    else this.free++;
  }

  /** Runs `op` holding a permit; the caller's wait is cut at `deadlineMs` (the permit is kept until `op` ends). */
  async run<T>(op: () => PromiseLike<T>, deadlineMs: number): Promise<T> {
    await this.acquire();
    let running: Promise<T>;
    try {
      running = Promise.resolve(op());
    } catch (e) {
      this.release();
      throw e;
    }
    void running.then(
      () => this.release(),
      () => this.release(),
    );
    if (!deadlineMs) return running;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new DbClientTimeoutError("DB_OPERATION_TIMEOUT", `database operation did not finish within ${deadlineMs} ms`)),
        deadlineMs,
      );
    });
    try {
      return await Promise.race([running, deadline]);
    } finally {
      clearTimeout(timer);
    }
  }
}

/**
 * The part of a postgres.js client drizzle uses at the top level (`unsafe`, `begin`, `options`),
 * with every query and transaction going through the gate. Statements inside a transaction use
 * the transaction's own client and are not gated again.
 */
/**
 * A transaction's client whose statements are named prepared statements (drizzle passes
 * `prepare: false` for every query it does not name; postgres.js then caches them per
 * connection, by text). Savepoints get the same wrapper.
 */
function preparing<T extends postgres.Sql | postgres.TransactionSql>(client: T): T {
  return new Proxy(client, {
    get(target, key, receiver) {
      if (key === "unsafe") {
        return (query: string, params?: unknown[], opts?: postgres.UnsafeQueryOptions) =>
          target.unsafe(query, params as postgres.ParameterOrJSON<never>[], { ...opts, prepare: true });
      }
      if (key === "savepoint") {
        return (...args: unknown[]) => {
          const fn = args.pop() as (t: postgres.TransactionSql) => unknown;
          return (target as postgres.TransactionSql).savepoint(...(args as [string]), (t: postgres.TransactionSql) => fn(preparing(t)));
        };
      }
      return Reflect.get(target, key, receiver);
    },
  });
}

function gated(sql: postgres.Sql, gate: Gate, deadlineMs: number, prepared: boolean): postgres.Sql {
  const unsafe = (query: string, params?: unknown[], opts?: postgres.UnsafeQueryOptions) => {
    let raw = false;
    let result: Promise<unknown> | undefined;
    const start = () =>
      (result ??= gate.run(() => {
        const q = sql.unsafe(query, params as postgres.ParameterOrJSON<never>[], prepared ? { ...opts, prepare: true } : opts);
        return raw ? q.values() : q;
      }, deadlineMs));
    const pending = {
      values() {
        raw = true;
        return pending;
      },
      then<A, B>(onOk?: (v: unknown) => A | PromiseLike<A>, onErr?: (e: unknown) => B | PromiseLike<B>) {
        return start().then(onOk, onErr);
      },
      catch<B>(onErr?: (e: unknown) => B | PromiseLike<B>) {
        return start().catch(onErr);
      },
      finally(f?: () => void) {
        return start().finally(f);
      },
    };
    return pending;
  };
  const begin = (...args: unknown[]) => {
    if (prepared) {
      const fn = args.pop() as (t: postgres.TransactionSql) => unknown;
      args.push((t: postgres.TransactionSql) => fn(preparing(t)));
    }
    return gate.run(() => (sql.begin as (...a: unknown[]) => Promise<unknown>)(...args), deadlineMs);
  };
  return { options: sql.options, unsafe, begin } as unknown as postgres.Sql;
}

export type DbOptions = Partial<DbSettings> & {
  /**
   * Set statement/lock/idle-in-transaction timeouts on the sessions (default true). Migrations
   * turn them off: a long index build is legitimate there.
   */
  sessionTimeouts?: boolean;
};

export function createDb(url: string, options: DbOptions = {}) {
  const s: DbSettings = { ...DB_DEFAULTS, ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) };
  const noTimeouts = options.sessionTimeouts === false;
  const sql = postgres(url, {
    max: s.max,
    onnotice: () => {},
    connect_timeout: s.connectTimeoutMs / 1000,
    // Seconds before reconnecting after a failed connection: 50 ms doubling, at most 1 s.
    backoff: (retries: number) => Math.min(0.05 * 2 ** retries, 1),
    connection: {
      application_name: s.applicationName,
      ...(noTimeouts
        ? {}
        : {
            statement_timeout: s.statementTimeoutMs,
            lock_timeout: s.lockTimeoutMs,
            idle_in_transaction_session_timeout: s.idleInTransactionTimeoutMs,
          }),
    },
  });
  const gate = new Gate(s.max, s.acquireTimeoutMs);
  const db = drizzle(gated(sql, gate, noTimeouts ? 0 : s.operationTimeoutMs, s.preparedStatements), { schema });
  settingsByDb.set(db, s);
  return { db, sql, settings: s };
}

const settingsByDb = new WeakMap<object, DbSettings>();

/** The settings `db` was created with (the defaults for a database object made elsewhere). */
export function settingsOf(db: object): DbSettings {
  return settingsByDb.get(db) ?? DB_DEFAULTS;
}

export type Db = ReturnType<typeof createDb>["db"];
export type Tx = Parameters<Parameters<Db["transaction"]>[0]>[0];
/** Services take either, so callers can compose several writes into one transaction. */
export type DbOrTx = Db | Tx;

const globalForDb = globalThis as unknown as { __creditloopDb?: ReturnType<typeof createDb> };

export function getDb(): Db {
  if (!globalForDb.__creditloopDb) {
    const url = process.env.DATABASE_URL;
    if (!url) throw new Error("DATABASE_URL is not set (npm run dev sets it for you).");
    globalForDb.__creditloopDb = createDb(url, dbSettingsFromEnv());
  }
  return globalForDb.__creditloopDb.db;
}

/** The app's settings (for the health endpoint and logs). */
export function getDbSettings(): DbSettings {
  getDb();
  return globalForDb.__creditloopDb!.settings;
}
