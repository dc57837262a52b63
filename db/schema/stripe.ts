// Local mirrors of Stripe objects and the webhook event log. stripe_events is both the dedupe
// record (unique event id, processed_at set in the handler's transaction) and the audit of
// failed attempts (attempts, last_error written outside the rolled-back transaction).
import { boolean, integer, jsonb, pgTable, text, timestamp, uuid, index } from "drizzle-orm/pg-core";
import { organizations } from "./organizations";

export const stripeCustomers = pgTable("stripe_customers", {
  orgId: uuid("org_id")
    .primaryKey()
    .references(() => organizations.id),
  stripeCustomerId: text("stripe_customer_id").notNull().unique(),
  createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
});

export const stripeEvents = pgTable(
  "stripe_events",
  {
    id: text("id").primaryKey(),
    type: text("type").notNull(),
    livemode: boolean("livemode").notNull(),
    payload: jsonb("payload").notNull(),
    attempts: integer("attempts").notNull().default(0),
    lastError: text("last_error"),
    receivedAt: timestamp("received_at", { withTimezone: true }).notNull().defaultNow(),
    processedAt: timestamp("processed_at", { withTimezone: true }),
    lastFailedAt: timestamp("last_failed_at", { withTimezone: true }),
  },
  (t) => [index("stripe_events_received_idx").on(t.receivedAt)],
);

export type StripeEventRow = typeof stripeEvents.$inferSelect;
