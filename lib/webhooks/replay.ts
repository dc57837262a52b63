// Staff tools over the event log, both through the one idempotent path (processStripeEvent):
// - replay: runs a stored event's payload again. A processed event is found processed and nothing
//   changes ("duplicate"); a failed one is retried now. Audited either way.
// - re-sync: lists Stripe's events since a date (events API) and processes, oldest first, every
//   one we have not processed — recovering from a webhook outage. Events of the other mode
//   (livemode) are skipped as the webhook does. Audited with the counts. Staff reach it through
//   the `ops.resync-events` job (lib/webhooks/resync.ts), never inside a request.
import { and, inArray, isNotNull } from "drizzle-orm";
import type Stripe from "stripe";
import type { Db } from "@/db/client";
import { stripeEvents } from "@/db/schema";
import { recordAudit } from "../audit/audit";
import { AppError } from "../errors";
import { log } from "../log";
import { expectedLivemode } from "../stripe/client";
import { listEventsSince } from "../stripe/events-api";
import { processStripeEvent, type ProcessOutcome } from "./process";
import { storedEvent } from "./event-log";

export async function replayEvent(db: Db, actorUserId: string, eventId: string): Promise<ProcessOutcome | { result: "failed"; error: string }> {
  const row = await storedEvent(db, eventId);
  if (!row) throw new AppError("not_found", "Event not found.");
  let outcome: ProcessOutcome | { result: "failed"; error: string };
  try {
    outcome = await processStripeEvent(db, row.payload as Stripe.Event);
  } catch (e) {
    outcome = { result: "failed", error: e instanceof Error ? e.message : String(e) };
  }
  await recordAudit(db, { actorUserId, action: "event.replay", target: { type: "stripe_event", id: eventId }, details: { type: row.type, outcome: outcome.result } });
  log.info({ eventId, outcome: outcome.result, actorUserId }, "event replayed by staff");
  return outcome;
}

export type ResyncReport = { listed: number; alreadyProcessed: number; processed: number; ignored: number; failed: { id: string; error: string }[]; skippedOtherMode: number };

export async function resyncFromStripe(db: Db, actorUserId: string | null, since: Date, opts: { runId?: string } = {}): Promise<ResyncReport> {
  const events = await listEventsSince(since);
  const report: ResyncReport = { listed: events.length, alreadyProcessed: 0, processed: 0, ignored: 0, failed: [], skippedOtherMode: 0 };
  const done = new Set<string>();
  for (let i = 0; i < events.length; i += 500) {
    const ids = events.slice(i, i + 500).map((e) => e.id);
    const rows = await db.select({ id: stripeEvents.id }).from(stripeEvents).where(and(inArray(stripeEvents.id, ids), isNotNull(stripeEvents.processedAt)));
    for (const r of rows) done.add(r.id);
  }
  for (const event of events) {
    if (event.livemode !== expectedLivemode()) {
      report.skippedOtherMode++;
      continue;
    }
    if (done.has(event.id)) {
      report.alreadyProcessed++;
      continue;
    }
    try {
      const outcome = await processStripeEvent(db, event);
      if (outcome.result === "duplicate") report.alreadyProcessed++;
      else if (outcome.result === "ignored") report.ignored++;
      else report.processed++;
    } catch (e) {
      report.failed.push({ id: event.id, error: e instanceof Error ? e.message : String(e) });
    }
  }
  await recordAudit(db, {
    actorUserId,
    action: "events.resync",
    target: { type: "stripe_events", id: since.toISOString() },
    details: { ...report, failed: report.failed.slice(0, 20), ...(opts.runId ? { runId: opts.runId } : {}) },
  });
  log.info({ since, ...report, failed: report.failed.length }, "re-sync from Stripe done");
  return report;
}
