// Webhook processing after the signature is verified: dedupe, handle and mark processed in ONE
// transaction. The event row is claimed with INSERT .. ON CONFLICT DO UPDATE .. WHERE
// processed_at IS NULL, which takes the row lock: a concurrent duplicate waits for the first
// delivery and then finds it processed; a late duplicate finds it processed at once. A handler
// error rolls everything back; the failure is then recorded outside that transaction and the
// caller answers 500 so Stripe retries. Stripe calls a handler's change needs afterwards are jobs
// the handler enqueues through the same transaction (lib/jobs/queue.ts), never after-commit steps.
import { sql } from "drizzle-orm";
import type Stripe from "stripe";
import type { Db } from "@/db/client";
import { stripeEvents } from "@/db/schema";
import { handlerFor } from "./handlers";
import { log } from "../log";

export type ProcessOutcome =
  | { result: "processed"; detail: string }
  | { result: "duplicate" }
  | { result: "ignored"; reason: string };

export class WebhookHandlerError extends Error {}

export async function processStripeEvent(db: Db, event: Stripe.Event): Promise<ProcessOutcome> {
  const handler = handlerFor(event);
  let outcome: ProcessOutcome;
  try {
    outcome = await db.transaction(async (tx) => {
      const claimed = await tx
        .insert(stripeEvents)
        .values({ id: event.id, type: event.type, livemode: event.livemode, payload: event, attempts: 1 })
        .onConflictDoUpdate({
          target: stripeEvents.id,
          set: { attempts: sql`${stripeEvents.attempts} + 1` },
          setWhere: sql`${stripeEvents.processedAt} IS NULL`,
        })
        .returning({ id: stripeEvents.id });
      if (claimed.length === 0) return { result: "duplicate" } as const;

      const handled = handler ? await handler(tx, event) : { detail: "no handler for this type" };
      const detail = handled.detail;
      await tx
        .update(stripeEvents)
        .set({ processedAt: sql`now()`, lastError: null })
        .where(sql`${stripeEvents.id} = ${event.id}`);
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
