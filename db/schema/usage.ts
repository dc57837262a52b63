// Metered overage (plans with `overage` in lib/plans/catalogue.ts): what deliveries used past the
// credits, and the batches in which it is reported to Stripe's Billing Meter.
//
// usage_records: one row per delivery that went past the balance, written in the SAME transaction
// as that delivery's debit (lib/deliveries/service.ts), unique per delivery, so a retried request
// records it once. It carries what the invoice needs: the Stripe customer, the subscription period
// the usage belongs to (it must land on that period's invoice) and the unit price at the time.
// subscription_id has no foreign key on purpose: the delivery holds the organisation lock when it
// inserts, and a key-share lock on the subscription row there could deadlock with a subscription
// sync (which locks the subscription, then the organisation for a grant).
//
// meter_batches: the metering job's outbox (lib/usage/push.ts). Unbatched records are assigned to
// a batch (one per customer and period) and COMMITTED with the batch's identifier
// (`usage-batch:<id>`) BEFORE Stripe is called; the meter event carries that identifier (and it is
// the request's idempotency key), so a crash after Stripe accepted and before pushed_at was set
// re-sends the same event, which Stripe does not count twice; a crash before the call leaves the
// batch to the next run. Invariants: a record belongs to at most one batch and never moves;
// a batch's credits = SUM(credits) of its records; pushed_at is set once.
import { sql } from "drizzle-orm";
import { check, index, integer, pgTable, text, timestamp, uuid } from "drizzle-orm/pg-core";
import { organizations } from "./organizations";
import { deliveries } from "./campaigns";

export const meterBatches = pgTable(
  "meter_batches",
  {
    id: uuid("id").primaryKey(),
    identifier: text("identifier").notNull().unique(),
    orgId: uuid("org_id")
      .notNull()
      .references(() => organizations.id),
    stripeCustomerId: text("stripe_customer_id").notNull(),
    credits: integer("credits").notNull(),
    // The meter event's timestamp: inside the period the usage belongs to.
    eventAt: timestamp("event_at", { withTimezone: true }).notNull(),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    pushedAt: timestamp("pushed_at", { withTimezone: true }),
    attempts: integer("attempts").notNull().default(0),
    lastError: text("last_error"),
    // Stripe refused it for good (e.g. older than 35 days): a person must look at it.
    failedAt: timestamp("failed_at", { withTimezone: true }),
  },
  (t) => [
    check("meter_batches_credits_positive", sql`${t.credits} > 0`),
    index("meter_batches_unpushed_idx").on(t.createdAt).where(sql`${t.pushedAt} is null and ${t.failedAt} is null`),
  ],
);

export const usageRecords = pgTable(
  "usage_records",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    orgId: uuid("org_id")
      .notNull()
      .references(() => organizations.id),
    deliveryId: uuid("delivery_id")
      .notNull()
      .unique()
      .references(() => deliveries.id),
    subscriptionId: uuid("subscription_id").notNull(),
    stripeCustomerId: text("stripe_customer_id").notNull(),
    planKey: text("plan_key").notNull(),
    credits: integer("credits").notNull(),
    unitAmount: integer("unit_amount").notNull(),
    currency: text("currency").notNull(),
    periodStart: timestamp("period_start", { withTimezone: true }).notNull(),
    periodEnd: timestamp("period_end", { withTimezone: true }).notNull(),
    recordedAt: timestamp("recorded_at", { withTimezone: true }).notNull().defaultNow(),
    batchId: uuid("batch_id").references(() => meterBatches.id),
  },
  (t) => [
    check("usage_records_credits_positive", sql`${t.credits} > 0`),
    check("usage_records_unit_amount", sql`${t.unitAmount} >= 0`),
    check("usage_records_period", sql`${t.periodEnd} > ${t.periodStart}`),
    // The delivery's "enough waiting to push now?" sum and the job's pick of unbatched records.
    index("usage_records_unbatched_idx").on(t.orgId, t.recordedAt).where(sql`${t.batchId} is null`),
    index("usage_records_org_period_idx").on(t.orgId, t.periodStart),
    index("usage_records_batch_idx").on(t.batchId),
  ],
);

export type UsageRecord = typeof usageRecords.$inferSelect;
export type MeterBatch = typeof meterBatches.$inferSelect;
