// Campaigns spend credits per delivery. A campaign paused for insufficient credits resumes in
// the same transaction as the credit grant that covers it (lib/campaigns).
import { sql } from "drizzle-orm";
import { check, index, integer, pgTable, text, timestamp, uuid } from "drizzle-orm/pg-core";
import { campaignStatus, pauseReason } from "./enums";
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

export const deliveries = pgTable(
  "deliveries",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    campaignId: uuid("campaign_id")
      .notNull()
      .references(() => campaigns.id),
    orgId: uuid("org_id")
      .notNull()
      .references(() => organizations.id),
    credits: integer("credits").notNull(),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [check("deliveries_credits_positive", sql`${t.credits} > 0`)],
);

export type Campaign = typeof campaigns.$inferSelect;
export type CampaignStatus = (typeof campaignStatus.enumValues)[number];
export type Delivery = typeof deliveries.$inferSelect;
