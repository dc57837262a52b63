// Staff refunds and Stripe disputes of top-up payments.
// refunds: one row per refund a staff member asked for; its id is the Stripe idempotency key
// (`refund:<id>`), so a retried job never refunds twice; the staff form's request id is unique,
// so a resubmitted request finds its row instead of making a second one (a second row would be a
// second key, a second refund at Stripe). The credits are reversed when Stripe reports the refund
// (`charge.refunded`), not here (lib/refunds).
// disputes: mirror of Stripe disputes by id; an organisation with an open dispute is flagged on
// the staff console.
import { sql } from "drizzle-orm";
import { check, index, integer, pgTable, text, timestamp, uuid } from "drizzle-orm/pg-core";
import { organizations, users } from "./organizations";
import { purchases } from "./purchases";

export const refunds = pgTable(
  "refunds",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    purchaseId: uuid("purchase_id")
      .notNull()
      .references(() => purchases.id),
    orgId: uuid("org_id")
      .notNull()
      .references(() => organizations.id),
    amount: integer("amount").notNull(),
    currency: text("currency").notNull(),
    reason: text("reason").notNull(),
    requestedBy: uuid("requested_by")
      .notNull()
      .references(() => users.id),
    // pending (asked, job not done), succeeded / failed (as Stripe reports the refund).
    status: text("status").notNull().default("pending"),
    stripeRefundId: text("stripe_refund_id").unique(),
    failureMessage: text("failure_message"),
    // The form's request id (idempotency, lib/refunds/request.ts). Null only on rows requested
    // before it was recorded (migration 0015).
    requestId: uuid("request_id").unique(),
    // The amount as asked: null when the form left it blank ("the rest of the payment", resolved
    // into `amount`). A repeat of the request must ask the same to get this refund back.
    requestedAmount: integer("requested_amount"),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    check("refunds_amount_positive", sql`${t.amount} > 0`),
    check("refunds_status", sql`${t.status} IN ('pending', 'succeeded', 'failed')`),
    index("refunds_purchase_idx").on(t.purchaseId),
  ],
);

export const disputes = pgTable(
  "disputes",
  {
    stripeDisputeId: text("stripe_dispute_id").primaryKey(),
    orgId: uuid("org_id")
      .notNull()
      .references(() => organizations.id),
    purchaseId: uuid("purchase_id")
      .notNull()
      .references(() => purchases.id),
    chargeId: text("charge_id").notNull(),
    amount: integer("amount").notNull(),
    // Stripe's dispute status (warning_needs_response, needs_response, under_review, won, lost …).
    status: text("status").notNull(),
    reason: text("reason"),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    closedAt: timestamp("closed_at", { withTimezone: true }),
  },
  (t) => [index("disputes_org_idx").on(t.orgId)],
);

export type Refund = typeof refunds.$inferSelect;
export type Dispute = typeof disputes.$inferSelect;
