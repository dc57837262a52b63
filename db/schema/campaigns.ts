// Campaigns spend credits per delivery. A campaign paused for insufficient credits resumes in
// the same transaction as the credit grant that covers it (lib/campaigns).
import { sql } from "drizzle-orm";
import { bigint, check, index, integer, pgTable, text, timestamp, uniqueIndex, uuid } from "drizzle-orm/pg-core";
import { campaignStatus, deliveryStatus, pauseReason } from "./enums";
import { organizations } from "./organizations";

export const campaigns = pgTable(
  "campaigns",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    orgId: uuid("org_id")
      .notNull()
      .references(() => organizations.id),
    name: text("name").notNull(),
    status: campaignStatus("status").notNull().default("draft"),
    pauseReason: pauseReason("pause_reason"),
    costPerDelivery: integer("cost_per_delivery").notNull(),
    deliveriesCount: integer("deliveries_count").notNull().default(0),
    pausedAt: timestamp("paused_at", { withTimezone: true }),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    check("campaigns_cost_positive", sql`${t.costPerDelivery} > 0`),
    check("campaigns_pause_reason", sql`(${t.status} = 'paused') = (${t.pauseReason} IS NOT NULL)`),
    index("campaigns_org_status_idx").on(t.orgId, t.status),
  ],
);

// One row per delivery request, keyed by (org, Idempotency-Key): its id is derived from both
// (lib/deliveries/ids.ts), so a retried request finds this row and its ledger entry
// (idempotency key delivery:<id>) instead of debiting again. status "delivered" has its entry;
// "refused" (the balance could not cover it; the campaign paused) has none and may be retried
// with the same key once credits arrive. request_hash pins the request body to the key.
// overage_credits: the part of `credits` the balance could not cover, billed as metered usage
// (a usage_records row in the same transaction); a delivery entirely in overage (balance 0) has
// no ledger entry.
export const deliveries = pgTable(
  "deliveries",
  {
    id: uuid("id").primaryKey(),
    campaignId: uuid("campaign_id")
      .notNull()
      .references(() => campaigns.id),
    orgId: uuid("org_id")
      .notNull()
      .references(() => organizations.id),
    idempotencyKey: text("idempotency_key").notNull(),
    requestHash: text("request_hash").notNull(),
    reference: text("reference"),
    status: deliveryStatus("status").notNull(),
    credits: integer("credits").notNull(),
    overageCredits: integer("overage_credits").notNull().default(0),
    // The ledger entry that paid for it (credit_entries.id; the entry points back by delivery_id).
    entryId: bigint("entry_id", { mode: "number" }),
    apiKeyId: uuid("api_key_id"),
    userId: uuid("user_id"),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    check("deliveries_credits_positive", sql`${t.credits} > 0`),
    // Delivered: an entry for what the balance paid, none only when overage paid it all.
    check(
      "deliveries_entry_when_delivered",
      sql`(${t.status} = 'delivered' AND (${t.entryId} IS NOT NULL) = (${t.overageCredits} < ${t.credits})) OR (${t.status} <> 'delivered' AND ${t.entryId} IS NULL AND ${t.overageCredits} = 0)`,
    ),
    check("deliveries_overage_range", sql`${t.overageCredits} >= 0 AND ${t.overageCredits} <= ${t.credits}`),
    uniqueIndex("deliveries_org_key_idx").on(t.orgId, t.idempotencyKey),
    index("deliveries_campaign_idx").on(t.campaignId, t.createdAt),
  ],
);

export type Campaign = typeof campaigns.$inferSelect;
export type CampaignStatus = (typeof campaignStatus.enumValues)[number];
export type Delivery = typeof deliveries.$inferSelect;
