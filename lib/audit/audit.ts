// The audit log's only writer and its read model. recordAudit runs in the caller's transaction, so
// the audited change and its audit row commit (or roll back) together. Actions are dotted verbs;
// the list below is the vocabulary in use (others may be added, e.g. "apikey.create").
import { and, desc, eq, lt, type SQL } from "drizzle-orm";
import type { DbOrTx } from "@/db/client";
import { auditLog, organizations, users, type AuditRow } from "@/db/schema";

export type AuditAction =
  | "credits.bonus"
  | "credits.correction"
  | "coupon.create"
  | "coupon.deactivate"
  | "refund.request"
  | "event.replay"
  | "events.resync"
  | "reconciliation.run"
  | "reconciliation.fix"
  | (string & {});

export type AuditInput = {
  /** The acting user; null for the system (a scheduled job). */
  actorUserId: string | null;
  action: AuditAction;
  target: { type: string; id: string };
  orgId?: string | null;
  details?: Record<string, unknown>;
};

export async function recordAudit(tx: DbOrTx, input: AuditInput): Promise<AuditRow> {
  const [row] = await tx
    .insert(auditLog)
    .values({
      actorUserId: input.actorUserId,
      action: input.action,
      targetType: input.target.type,
      targetId: input.target.id,
      orgId: input.orgId ?? null,
      details: input.details ?? {},
    })
    .returning();
  return row!;
}

export async function listAudit(db: DbOrTx, params: { orgId?: string; action?: string; before?: number; limit?: number } = {}) {
  const limit = Math.min(Math.max(params.limit ?? 50, 1), 200);
  const where: (SQL | undefined)[] = [
    params.orgId ? eq(auditLog.orgId, params.orgId) : undefined,
    params.action ? eq(auditLog.action, params.action) : undefined,
    params.before ? lt(auditLog.id, params.before) : undefined,
  ];
  const rows = await db
    .select({ entry: auditLog, actorEmail: users.email, orgSlug: organizations.slug })
    .from(auditLog)
    .leftJoin(users, eq(users.id, auditLog.actorUserId))
    .leftJoin(organizations, eq(organizations.id, auditLog.orgId))
    .where(and(...where))
    .orderBy(desc(auditLog.id))
    .limit(limit + 1);
  const page = rows.slice(0, limit);
  return { rows: page, nextCursor: rows.length > limit ? page[page.length - 1]!.entry.id : null };
}
