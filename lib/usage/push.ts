// The metering job `billing.push-usage`: reports unpushed overage usage to Stripe's Billing Meter.
// It runs every METER_PUSH_EVERY_MINUTES (cron) and as soon as an organisation's unpushed usage
// reaches METER_PUSH_UNITS (queued by the delivery that got there, singleton), whichever first.
//
// Crash safety, in three steps:
//   1. assignBatches: in ONE transaction, unbatched usage records (locked, SKIP LOCKED so two runs
//      split the work) are grouped per customer and period, each group gets a meter_batches row
//      with its identifier `usage-batch:<uuid>`, and the records point to it. Committed before
//      anything is sent, so the identifier of a batch never changes.
//   2. pushBatch: the meter event for the batch (value = its credits, timestamp inside its
//      period, identifier = idempotency key = the batch's identifier).
//   3. the batch is marked pushed (only if it was not).
// A crash between 2 and 3 leaves the batch unpushed: the next run sends the same event with the
// same identifier, which Stripe does not count again (replayed, or refused as existing — both
// mean "already there") → no double count. A crash before 2 leaves it to the next run → no loss.
// Transient failures (network, 5xx, 429) count an attempt and fail the job, which pg-boss retries;
// Stripe refusing the event itself (e.g. older than 35 days) marks the batch failed for a person.
import { randomUUID } from "node:crypto";
import { and, asc, eq, inArray, isNull, sql } from "drizzle-orm";
import type { Db } from "@/db/client";
import { meterBatches, usageRecords, type MeterBatch } from "@/db/schema";
import type { JobData } from "../jobs/queue";
import { log } from "../log";
import { isPermanentMeterError, reportMeterEvent } from "../stripe/meters";
import { groupForBatches } from "./rules";

export type PushReport = { batched: number; pushed: number; alreadyAtStripe: number; failed: number; retrying: number };

/** Step 1: puts every unbatched usage record into a batch (committed before any push). */
export async function assignBatches(db: Db, limit = 10_000): Promise<number> {
  return db.transaction(async (tx) => {
    const rows = await tx
      .select({
        id: usageRecords.id,
        orgId: usageRecords.orgId,
        stripeCustomerId: usageRecords.stripeCustomerId,
        periodStart: usageRecords.periodStart,
        periodEnd: usageRecords.periodEnd,
        credits: usageRecords.credits,
        recordedAt: usageRecords.recordedAt,
      })
      .from(usageRecords)
      .where(isNull(usageRecords.batchId))
      .orderBy(asc(usageRecords.recordedAt))
      .limit(limit)
      .for("update", { skipLocked: true });
    const planned = groupForBatches(rows);
    for (const b of planned) {
      const id = randomUUID();
      await tx.insert(meterBatches).values({ id, identifier: `usage-batch:${id}`, orgId: b.orgId, stripeCustomerId: b.stripeCustomerId, credits: b.credits, eventAt: b.eventAt });
      await tx.update(usageRecords).set({ batchId: id }).where(and(inArray(usageRecords.id, b.recordIds), isNull(usageRecords.batchId)));
    }
    return planned.length;
  });
}

/** Steps 2 and 3 for one batch. */
export async function pushBatch(db: Db, batch: MeterBatch): Promise<"pushed" | "duplicate" | "failed"> {
  const batchLog = log.child({ batchId: batch.id, identifier: batch.identifier, orgId: batch.orgId, credits: batch.credits });
  try {
    const outcome = await reportMeterEvent({ identifier: batch.identifier, customerId: batch.stripeCustomerId, value: batch.credits, timestamp: batch.eventAt });
    await db.update(meterBatches).set({ pushedAt: sql`now()`, lastError: null }).where(and(eq(meterBatches.id, batch.id), isNull(meterBatches.pushedAt)));
    batchLog.info({ event: "usage_pushed", outcome }, "usage batch pushed to the meter");
    return outcome === "created" ? "pushed" : "duplicate";
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    const permanent = isPermanentMeterError(e);
    await db
      .update(meterBatches)
      .set({ attempts: sql`${meterBatches.attempts} + 1`, lastError: message.slice(0, 500), ...(permanent ? { failedAt: sql`now()` } : {}) })
      .where(eq(meterBatches.id, batch.id))
      .catch(() => undefined); // the database may be what failed; the batch stays unpushed either way
    if (permanent) {
      batchLog.error({ event: "usage_push_refused", err: e }, "Stripe refused a usage batch; it needs a person");
      return "failed";
    }
    throw e;
  }
}

/** The whole job: batch what is waiting, then push every unpushed batch, oldest first. */
export async function pushUsage(db: Db): Promise<PushReport> {
  const report: PushReport = { batched: await assignBatches(db), pushed: 0, alreadyAtStripe: 0, failed: 0, retrying: 0 };
  const batches = await db
    .select()
    .from(meterBatches)
    .where(and(isNull(meterBatches.pushedAt), isNull(meterBatches.failedAt)))
    .orderBy(asc(meterBatches.createdAt))
    .limit(1_000);
  let firstError: unknown;
  for (const batch of batches) {
    try {
      const outcome = await pushBatch(db, batch);
      if (outcome === "pushed") report.pushed++;
      else if (outcome === "duplicate") report.alreadyAtStripe++;
      else report.failed++;
    } catch (e) {
      report.retrying++;
      firstError ??= e;
    }
  }
  if (firstError) {
    log.warn({ event: "usage_push_incomplete", ...report }, "some usage batches were not pushed; the job will retry");
    throw firstError;
  }
  return report;
}

export async function runPushUsageJob(db: Db, _data: JobData["billing.push-usage"]): Promise<PushReport> {
  return pushUsage(db);
}
