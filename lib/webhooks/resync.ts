// "Re-sync from Stripe" as a job, so a large backlog never makes a request slow:
// - requestResync (the staff action): one resync_runs row and its `ops.resync-events` job, in one
//   transaction. The job is a singleton per date window (singleton key = the since-date): asking
//   again while one for the same window is still waiting queues nothing and answers with the
//   waiting run.
// - runResyncJob (the worker): counts the attempt, runs resyncFromStripe (lib/webhooks/replay.ts:
//   every listed event we never processed goes through processStripeEvent, the webhook's own
//   idempotent path), and writes the report, or the error of this attempt before rethrowing so
//   pg-boss retries. Running twice is harmless: a processed event is found processed.
// - latestResyncRun: what the events page shows.
import { and, desc, eq, isNull, sql } from "drizzle-orm";
import type { Db } from "@/db/client";
import { resyncRuns, type ResyncRun } from "@/db/schema";
import { enqueue } from "../jobs/queue";
import { log } from "../log";
import { resyncFromStripe, type ResyncReport } from "./replay";

export type ResyncRequest = { queued: boolean; runId: string; since: string };

export function resyncSingletonKey(since: Date): string {
  return `resync:${since.toISOString()}`;
}

export async function requestResync(db: Db, actorUserId: string | null, since: Date): Promise<ResyncRequest> {
  return db.transaction(async (tx) => {
    const runId = crypto.randomUUID();
    const jobId = await enqueue(tx, "ops.resync-events", { runId, since: since.toISOString(), actorUserId }, { singletonKey: resyncSingletonKey(since) });
    if (jobId) {
      await tx.insert(resyncRuns).values({ id: runId, since, actorUserId });
      log.info({ runId, since, actorUserId }, "re-sync from Stripe queued");
      return { queued: true, runId, since: since.toISOString() };
    }
    // A job for the same window is already waiting: that run will cover this request.
    const [waiting] = await tx
      .select({ id: resyncRuns.id })
      .from(resyncRuns)
      .where(and(eq(resyncRuns.since, since), isNull(resyncRuns.finishedAt)))
      .orderBy(desc(resyncRuns.requestedAt))
      .limit(1);
    return { queued: false, runId: waiting?.id ?? "", since: since.toISOString() };
  });
}

export async function runResyncJob(db: Db, data: { runId: string; since: string; actorUserId: string | null }): Promise<{ runId: string; report?: ResyncReport; skipped?: string }> {
  const [run] = await db
    .update(resyncRuns)
    .set({ startedAt: sql`coalesce(${resyncRuns.startedAt}, now())`, attempts: sql`${resyncRuns.attempts} + 1` })
    .where(eq(resyncRuns.id, data.runId))
    .returning();
  if (!run) return { runId: data.runId, skipped: "no such run" };
  if (run.finishedAt) return { runId: run.id, skipped: "already finished" };
  try {
    const report = await resyncFromStripe(db, data.actorUserId, new Date(data.since), { runId: run.id });
    await db.update(resyncRuns).set({ finishedAt: sql`now()`, report, error: null }).where(eq(resyncRuns.id, run.id));
    return { runId: run.id, report };
  } catch (e) {
    await db.update(resyncRuns).set({ error: e instanceof Error ? e.message.slice(0, 1000) : String(e) }).where(eq(resyncRuns.id, run.id));
    throw e;
  }
}

export async function latestResyncRun(db: Db): Promise<ResyncRun | null> {
  const [run] = await db.select().from(resyncRuns).orderBy(desc(resyncRuns.requestedAt)).limit(1);
  return run ?? null;
}
