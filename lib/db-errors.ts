// Which database failures are transient — the database is unreachable, restarting or overloaded,
// or a bound from db/client.ts was reached — as opposed to a bug or a rule violation. Transient
// failures are answered with "try again": the webhook with 500 (Stripe retries), pages and actions
// with a try-again message, jobs by throwing (pg-boss retries with back-off), health with 503.
// Drivers and drizzle wrap errors (DrizzleQueryError → PostgresError / Error), so the whole
// `cause` chain is examined.

export type DbFailureKind =
  /** No usable connection: refused, reset, terminated, server starting or shutting down, pool wait exceeded. */
  | "unavailable"
  /** A bound was reached: statement_timeout, lock_timeout, idle_in_transaction_session_timeout, operation deadline. */
  | "timeout"
  /** Serialization failure or deadlock: the transaction may simply be run again. */
  | "conflict";

export type DbFailure = { kind: DbFailureKind; code: string; message: string };

// postgres.js's own codes, Node's socket codes, our client's bounds.
const UNAVAILABLE_CODES = new Set([
  "CONNECT_TIMEOUT",
  "CONNECTION_CLOSED",
  "CONNECTION_DESTROYED",
  "CONNECTION_ENDED",
  "ECONNREFUSED",
  "ECONNRESET",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENOTFOUND",
  "EAI_AGAIN",
  "DB_ACQUIRE_TIMEOUT",
  // SQLSTATE: admin_shutdown (pg_terminate_backend, fast shutdown), crash_shutdown, cannot_connect_now
  "57P01",
  "57P02",
  "57P03",
  // too_many_connections
  "53300",
]);
const TIMEOUT_CODES = new Set([
  "57014", // query_canceled: statement_timeout
  "55P03", // lock_not_available: lock_timeout (LOCK_TIMEOUT)
  "25P03", // idle_in_transaction_session_timeout
  "DB_OPERATION_TIMEOUT",
]);
const CONFLICT_CODES = new Set(["40001", "40P01"]);

function codeOf(e: unknown): string | undefined {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : undefined;
}

/** `e` and its causes (drivers and drizzle wrap the database's own error), at most six deep. */
function* causes(e: unknown): Generator<unknown> {
  for (let cur: unknown = e, depth = 0; cur && depth < 6; depth++) {
    yield cur;
    cur = cur instanceof Error ? cur.cause : undefined;
  }
}

/** The transient database failure in `e` or its causes, or null when it is something else. */
export function classifyDbError(e: unknown): DbFailure | null {
  for (const cur of causes(e)) {
    const code = codeOf(cur);
    if (code) {
      const message = cur instanceof Error ? cur.message.split("\n")[0]! : String(cur);
      // Class 08: connection exceptions (08007: the commit's outcome is unknown; callers retry idempotently).
      if (UNAVAILABLE_CODES.has(code) || /^08[0-9A-Z]{3}$/.test(code)) return { kind: "unavailable", code, message };
      if (TIMEOUT_CODES.has(code)) return { kind: "timeout", code, message };
      if (CONFLICT_CODES.has(code)) return { kind: "conflict", code, message };
    }
  }
  return null;
}

/**
 * Our own SQLSTATE: a one-statement hot path (db/migrations/0014_settle_paid_topups_batch.sql)
 * found a race after writing and rolled itself back; the caller runs its general path instead.
 */
export const ONE_CALL_RACE = "CL001";

/** lock_not_available: a row lock waited past lock_timeout (a row held elsewhere). */
export const LOCK_TIMEOUT = "55P03";

/** True when `e` or one of its causes carries SQLSTATE `code`. */
export function hasSqlState(e: unknown, code: string): boolean {
  for (const cur of causes(e)) if (codeOf(cur) === code) return true;
  return false;
}

export const isTransientDbError = (e: unknown): boolean => classifyDbError(e) !== null;

/** What a person is told when the database is briefly unavailable or too slow. */
// Not "nothing was charged": the database can fail after Stripe took a payment; that payment is
// credited by the webhook (Stripe retries) once the database is back.
export const DB_UNAVAILABLE_MESSAGE =
  "We couldn't reach our database just now. Please try again in a moment; a payment that went through is credited as soon as it is back.";
