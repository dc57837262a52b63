// The audit log: who did what to which target, when, with details. Append-only (a trigger in the
// migrations refuses UPDATE and DELETE). Written by lib/audit/audit.ts `recordAudit(tx, …)` in the
// same transaction as the change it describes, so a change without its audit row cannot commit.
// actor_user_id is null for the system (a scheduled job acting on its own).
import { bigint, index, integer, jsonb, pgTable, text, timestamp, uuid } from "drizzle-orm/pg-core";
import { organizations, users } from "./organizations";

export const auditLog = pgTable(
  "audit_log",
  {
    id: bigint("id", { mode: "number" }).primaryKey().generatedAlwaysAsIdentity(),
    at: timestamp("at", { withTimezone: true }).notNull().defaultNow(),
    actorUserId: uuid("actor_user_id").references(() => users.id),
    // Dotted verb: "credits.bonus", "coupon.create", "event.replay", "refund.request", …
    action: text("action").notNull(),
    targetType: text("target_type").notNull(),
    targetId: text("target_id").notNull(),
    orgId: uuid("org_id").references(() => organizations.id),
    details: jsonb("details").notNull().default({}),
  },
  (t) => [
    index("audit_log_at_idx").on(t.id),
    index("audit_log_org_idx").on(t.orgId, t.id),
    index("audit_log_action_idx").on(t.action, t.id),
  ],
);

export type AuditRow = typeof auditLog.$inferSelect;

// One row per reconciliation run (lib/reconcile): what it compared, every difference it found
// with its cause, and which it fixed through the normal finalisation path.
export const reconciliationRuns = pgTable("reconciliation_runs", {
  id: uuid("id").primaryKey().defaultRandom(),
  startedAt: timestamp("started_at", { withTimezone: true }).notNull().defaultNow(),
  finishedAt: timestamp("finished_at", { withTimezone: true }),
  actorUserId: uuid("actor_user_id").references(() => users.id),
  checkedPaymentIntents: integer("checked_payment_intents").notNull().default(0),
  checkedInvoices: integer("checked_invoices").notNull().default(0),
  checkedOrganisations: integer("checked_organisations").notNull().default(0),
  findings: jsonb("findings").notNull().default([]),
  fixed: integer("fixed").notNull().default(0),
  error: text("error"),
});

export type ReconciliationRun = typeof reconciliationRuns.$inferSelect;

// One row per "re-sync from Stripe" request (lib/webhooks/resync.ts): queued by the staff action
// with its job in the same transaction, run by the `ops.resync-events` job, which writes what it
// found (listed, processed, ignored, failed…) or the error of its last attempt. The events page
// shows the latest.
export const resyncRuns = pgTable(
  "resync_runs",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    since: timestamp("since", { withTimezone: true }).notNull(),
    actorUserId: uuid("actor_user_id").references(() => users.id),
    requestedAt: timestamp("requested_at", { withTimezone: true }).notNull().defaultNow(),
    startedAt: timestamp("started_at", { withTimezone: true }),
    finishedAt: timestamp("finished_at", { withTimezone: true }),
    attempts: integer("attempts").notNull().default(0),
    report: jsonb("report"),
    error: text("error"),
  },
  (t) => [index("resync_runs_requested_idx").on(t.requestedAt)],
);

export type ResyncRun = typeof resyncRuns.$inferSelect;
