// Handler types, in a leaf module so the dispatcher and the handlers never import each other.
import type Stripe from "stripe";
import type { SQL } from "drizzle-orm";
import type { Db, Tx } from "@/db/client";

/**
 * A handler writes only through `tx`. A Stripe call that must follow its change is a job enqueued
 * through the same `tx` (lib/jobs/queue.ts `enqueue`), so it commits with the change and is
 * retried until done; there are no after-commit callbacks.
 */
export type HandlerResult = { detail: string };
export type Handler<E extends Stripe.Event> = {
  (tx: Tx, event: E, early?: unknown): Promise<HandlerResult>;
  /**
   * Optional: the handler's first statement, sent right behind the claim in the same round trip
   * (lib/webhooks/process.ts); its result is the handler's `early` argument. It MUST include
   * `claimed` in its WHERE clause — an SQL condition true only in the transaction that claimed
   * the event — so that a duplicate delivery locks and writes nothing. When the claim came from
   * a retry after a recorded failure, `claimed` was still false when it ran: the handler then
   * gets `early` undefined and takes its first step itself.
   */
  early?: (tx: Tx, event: E, claimed: SQL) => Promise<unknown>;
  /**
   * Optional: the whole of the common case in ONE statement that is its own transaction (claim,
   * effects and processed marker together), tried before the general path. It answers
   * "processed" or "duplicate", or null having written nothing, and the general path then runs
   * (as it also does when it throws SQLSTATE ONE_CALL_RACE, lib/db-errors.ts). See lib/topups/settle-paid.ts.
   */
  oneCall?: (db: Db, event: E) => Promise<OneCallResult | null>;
};
export type OneCallResult = { result: "processed"; detail: string } | { result: "duplicate" };
