// The credit ledger: append-only (a trigger in the migrations refuses UPDATE and DELETE).
// Every row explains one change of an organisation's balance; its idempotency key is derived
// from the cause (purchase:<id>, delivery:<id>, ...) so a cause can never be counted twice.
import { sql } from "drizzle-orm";
import { bigint, check, date, index, integer, pgTable, text, timestamp, unique, uuid } from "drizzle-orm/pg-core";
import { creditEntryKind } from "./enums";
import { organizations, users } from "./organizations";
import { purchases } from "./purchases";
import { campaigns, deliveries } from "./campaigns";

export const creditEntries = pgTable(
  "credit_entries",
  {
    // Identity ids grow with insertion order, so (org_id, id) is the keyset for pagination.
    id: bigint("id", { mode: "number" }).primaryKey().generatedAlwaysAsIdentity(),
    orgId: uuid("org_id")
      .notNull()
      .references(() => organizations.id),
    kind: creditEntryKind("kind").notNull(),
    amount: integer("amount").notNull(),
    balanceAfter: integer("balance_after").notNull(),
    idempotencyKey: text("idempotency_key").notNull().unique(),
    description: text("description").notNull(),
    purchaseId: uuid("purchase_id").references(() => purchases.id),
    campaignId: uuid("campaign_id").references(() => campaigns.id),
    deliveryId: uuid("delivery_id").references(() => deliveries.id),
    actorUserId: uuid("actor_user_id").references(() => users.id),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    check("credit_entries_amount_nonzero", sql`${t.amount} <> 0`),
    index("credit_entries_org_id_idx").on(t.orgId, t.id),
    index("credit_entries_org_kind_id_idx").on(t.orgId, t.kind, t.id),
  ],
);

export type CreditEntry = typeof creditEntries.$inferSelect;
export type CreditEntryKind = (typeof creditEntryKind.enumValues)[number];

/**
 * Per organisation, UTC day and campaign (null: entries without one), the ledger's totals:
 * credits in (positive amounts), credits out (negative amounts, as a positive number) and usage
 * out (usage entries only). Written ONLY by the statement trigger on credit_entries (migration
 * 0010), in the same statement as the entries it counts, so it always equals the aggregate of the
 * ledger (tests/support/context.ts checks this after every integration test). The usage chart,
 * the depletion forecast and per-campaign spend read it instead of aggregating entries, so their
 * cost follows days × campaigns, not the number of entries. Every writer of entries holds the
 * organisation's row lock (lib/ledger/ledger.ts), so the day rows are updated in that order too.
 */
export const creditDailyTotals = pgTable(
  "credit_daily_totals",
  {
    orgId: uuid("org_id")
      .notNull()
      .references(() => organizations.id),
    day: date("day", { mode: "string" }).notNull(),
    campaignId: uuid("campaign_id").references(() => campaigns.id),
    creditsIn: bigint("credits_in", { mode: "number" }).notNull().default(0),
    creditsOut: bigint("credits_out", { mode: "number" }).notNull().default(0),
    usageOut: bigint("usage_out", { mode: "number" }).notNull().default(0),
    entries: bigint("entries", { mode: "number" }).notNull().default(0),
  },
  (t) => [unique("credit_daily_totals_org_day_campaign").on(t.orgId, t.day, t.campaignId).nullsNotDistinct()],
);
