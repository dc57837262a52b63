// Webhook processing after the signature is verified: dedupe, handle and mark processed in ONE
// transaction. The claim is the transaction's first statement and already writes the processed
// marker (processed_at = now(), the transaction's start time), so the marker commits or rolls
// back with the handler's effects and no separate "mark processed" round trip follows the
// handler — the organisation's row lock, taken by the handler's last ledger statement, is held
// only until COMMIT.
//   - A fresh event: INSERT .. ON CONFLICT DO NOTHING inserts the row (one statement).
//   - A concurrent duplicate: its INSERT waits on the first delivery's uncommitted row; once that
//     commits it finds the event processed (a rollback lets it insert and claim instead).
//   - A late duplicate: nothing is inserted and the UPDATE below matches nothing, so the
//     transaction writes nothing (no lock, no WAL flush at commit): a duplicate is cheap.
//   - A retry after a recorded failure (row present, processed_at NULL): the UPDATE claims it,
//     taking its row lock, so two retries at once still handle it once.
// A handler error rolls everything back; the failure is then recorded outside that transaction
// and the caller answers 500 so Stripe retries. Stripe calls a handler's change needs afterwards
// are jobs the handler enqueues through the same transaction (lib/jobs/queue.ts), never
// after-commit steps.
import { and, eq, isNull, sql, type SQL } from "drizzle-orm";
import type Stripe from "stripe";
import type { Db, Tx } from "@/db/client";
import { stripeEvents } from "@/db/schema";
import { handlerFor } from "./handlers";
import { log } from "../log";
import { hasSqlState, ONE_CALL_RACE } from "../db-errors";

export type ProcessOutcome =
  | { result: "processed"; detail: string }
  | { result: "duplicate" }
  | { result: "ignored"; reason: string };

export class WebhookHandlerError extends Error {}

/** `oneCall: false` skips a handler's one-statement path (tests compare it with the general one). */
export async function processStripeEvent(db: Db, event: Stripe.Event, opts: { oneCall?: boolean } = {}): Promise<ProcessOutcome> {
  const handler = handlerFor(event);
  let outcome: ProcessOutcome;
  try {
    // The common case of a hot event type, whole, in one statement that is its own transaction.
    if (handler?.oneCall && opts.oneCall !== false) {
      const done = await handler.oneCall(db, event).catch((e: unknown) => {
        if (!hasSqlState(e, ONE_CALL_RACE)) throw e;
        log.info({ event: "webhook_one_call_race", eventId: event.id, type: event.type }, "webhook: one-call path rolled back; general path");
        return null;
      });
      if (done) return done;
    }
    outcome = await db.transaction(async (tx) => {
      // The claim's INSERT and the handler's first statement (if it has one) go out together,
      // right behind BEGIN: one round trip. The early statement only acts once the claim holds.
      const claimed = claim(tx, event);
      const early = handler?.early?.(tx, event, claimedHere(event.id));
      void early?.catch(() => {}); // a failure shows in the claim or below; never unhandled
      if (!(await claimed)) {
        await early; // it matched nothing (not claimed here); let it finish before COMMIT
        return { result: "duplicate" } as const;
      }

      const handled = handler ? await handler(tx, event, await early) : { detail: "no handler for this type" };
      const detail = handled.detail;
      if (!handler) return { result: "ignored", reason: detail } as const;
      return { result: "processed", detail } as const;
    });
  } catch (e) {
    const message = describeError(e);
    await recordFailure(db, event, message);
    throw new WebhookHandlerError(message, { cause: e });
  }
  return outcome;
}

/**
 * True only inside the transaction that claimed the event: the claim sets processed_at to now(),
 * the transaction's start time. (Only a duplicate whose transaction started in the very same
 * microsecond as the claiming one could also match; its early statement then takes a row lock
 * it releases at once, and the handler still does not run.)
 */
function claimedHere(eventId: string): SQL {
  return sql`exists (select 1 from ${stripeEvents} where ${stripeEvents.id} = ${eventId} and ${stripeEvents.processedAt} = now())`;
}

/** True when this transaction owns the event (see the header); false for a duplicate. */
async function claim(tx: Tx, event: Stripe.Event): Promise<boolean> {
  // execute(): the INSERT is written at once, before the handler's early statement.
  // (A template, not a builder: hot path, db/raw.ts.)
  const inserted = await tx
    .execute<{ id: string }>(sql`
    insert into stripe_events (id, type, livemode, payload, attempts, processed_at)
    values (${event.id}, ${event.type}, ${event.livemode}, ${JSON.stringify(event)}::jsonb, 1, now())
    on conflict (id) do nothing
    returning id`)
    .execute();
  if (inserted.length > 0) return true;
  const retried = await tx
    .update(stripeEvents)
    .set({ attempts: sql`${stripeEvents.attempts} + 1`, processedAt: sql`now()`, lastError: null })
    .where(and(eq(stripeEvents.id, event.id), isNull(stripeEvents.processedAt)))
    .returning({ id: stripeEvents.id });
  return retried.length > 0;
}

async function recordFailure(db: Db, event: Stripe.Event, message: string): Promise<void> {
  try {
    await db
      .insert(stripeEvents)
      .values({ id: event.id, type: event.type, livemode: event.livemode, payload: event, attempts: 1, lastError: message, lastFailedAt: new Date() })
      .onConflictDoUpdate({
        target: stripeEvents.id,
        set: { attempts: sql`${stripeEvents.attempts} + 1`, lastError: message, lastFailedAt: sql`now()` },
        setWhere: sql`${stripeEvents.processedAt} IS NULL`,
      });
  } catch (recordError) {
    // The database itself may be what failed; the 500 still makes Stripe retry.
    log.error({ eventId: event.id, type: event.type, err: recordError }, "webhook: could not record the failure");
  }
}

/** The error and its causes (drivers wrap the database's own message), short enough to store. */
function describeError(e: unknown): string {
  const parts: string[] = [];
  for (let cur: unknown = e, depth = 0; cur && depth < 4; depth++) {
    parts.push(cur instanceof Error ? cur.message.split("\n")[0]! : String(cur));
    cur = cur instanceof Error ? cur.cause : undefined;
  }
  return parts.join(" ← ").slice(0, 2000);
}
