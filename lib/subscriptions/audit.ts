// Audit rows for plan changes (subscribe, change plan, cancel at period end / keep, cancel a
// scheduled change). Written by syncRow (lib/subscriptions/subscribe.ts) in the transaction that
// records the local mirror right after Stripe accepted the change, under the subscription row's
// lock, with the state the mirror now shows. One row per change: a retried request (same request
// id, so Stripe replays the same answer) finds its row and writes nothing.
import { and, eq, sql } from "drizzle-orm";
import type { Tx } from "@/db/client";
import { auditLog, type Subscription } from "@/db/schema";
import { recordAudit } from "../audit/audit";

export type PlanAuditAction = "plan.subscribe" | "plan.change" | "plan.cancel_at_period_end" | "plan.keep" | "plan.cancel_scheduled_change";

export type PlanAudit = {
  actorUserId: string | null;
  action: PlanAuditAction;
  /** The caller's request id (idempotency): one audit row per request. */
  requestId: string;
  details?: Record<string, unknown>;
};

/** Records the change once per request id. `row` is the mirror as written in this transaction. */
export async function recordPlanAudit(tx: Tx, row: Subscription, audit: PlanAudit): Promise<boolean> {
  const [seen] = await tx
    .select({ id: auditLog.id })
    .from(auditLog)
    .where(and(eq(auditLog.orgId, row.orgId), eq(auditLog.action, audit.action), eq(auditLog.targetId, row.id), sql`${auditLog.details}->>'requestId' = ${audit.requestId}`))
    .limit(1);
  if (seen) return false;
  await recordAudit(tx, {
    actorUserId: audit.actorUserId,
    action: audit.action,
    target: { type: "subscription", id: row.id },
    orgId: row.orgId,
    details: {
      requestId: audit.requestId,
      ...audit.details,
      after: {
        status: row.status,
        planKey: row.planKey,
        interval: row.interval,
        cancelAtPeriodEnd: row.cancelAtPeriodEnd,
        scheduledPlanKey: row.scheduledPlanKey,
        scheduledInterval: row.scheduledInterval,
        stripeSubscriptionId: row.stripeSubscriptionId,
      },
    },
  });
  return true;
}
