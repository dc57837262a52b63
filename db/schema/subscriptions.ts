// Subscription plans and subscriptions: local mirrors of Stripe objects by id.
// - plans / plan_prices mirror the catalogue (lib/plans/catalogue.ts) as pushed to Stripe by
//   `npm run stripe:sync`: the Stripe product and price ids for each plan and lookup key.
// - subscriptions mirror one Stripe subscription each. A row is inserted (status "creating")
//   before the subscription is created at Stripe, with the idempotency key derived from its id, so
//   a retried action can never create a second one. At most one *live* subscription per
//   organisation: the partial unique index below, so double clicks, two tabs and two admins end
//   with exactly one. Everything else is written from Stripe's current state (lib/subscriptions/
//   sync.ts re-fetches the subscription under the row lock; event order never matters).
import { sql } from "drizzle-orm";
import { boolean, check, index, integer, pgTable, text, timestamp, uniqueIndex, uuid } from "drizzle-orm/pg-core";
import { organizations, users } from "./organizations";

export const plans = pgTable(
  "plans",
  {
    key: text("key").primaryKey(),
    name: text("name").notNull(),
    stripeProductId: text("stripe_product_id").notNull().unique(),
    creditsPerMonth: integer("credits_per_month").notNull(),
    // Metered overage (catalogue `overage`): price per credit and the metered Stripe price; null
    // when the plan refuses deliveries past its credits.
    overageUnitAmount: integer("overage_unit_amount"),
    stripeOveragePriceId: text("stripe_overage_price_id").unique(),
    syncedAt: timestamp("synced_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [check("plans_credits_positive", sql`${t.creditsPerMonth} > 0`)],
);

export const planPrices = pgTable(
  "plan_prices",
  {
    lookupKey: text("lookup_key").primaryKey(),
    planKey: text("plan_key")
      .notNull()
      .references(() => plans.key),
    interval: text("interval").notNull(),
    amount: integer("amount").notNull(),
    currency: text("currency").notNull(),
    stripePriceId: text("stripe_price_id").notNull().unique(),
    syncedAt: timestamp("synced_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    check("plan_prices_interval", sql`${t.interval} IN ('month', 'year')`),
    check("plan_prices_amount_positive", sql`${t.amount} > 0`),
    check("plan_prices_currency_lower", sql`${t.currency} = lower(${t.currency})`),
  ],
);

/** Statuses after which a subscription never comes back (it no longer holds the org's slot). */
export const ENDED_SUBSCRIPTION_STATUSES = ["canceled", "incomplete_expired"] as const;

export const subscriptions = pgTable(
  "subscriptions",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    orgId: uuid("org_id")
      .notNull()
      .references(() => organizations.id),
    createdBy: uuid("created_by").references(() => users.id),
    // From the subscribe form; a double submit carries the same one and finds this row.
    requestId: uuid("request_id").notNull().unique(),
    // How the start pays its first invoice: "page" (Elements, the subscription created by us) or
    // "checkout" (a hosted Checkout Session creates it). A row of one is never continued by the
    // other: that would leave a payable session beside a subscription of our own.
    startedVia: text("started_via").notNull().default("page"),
    stripeSubscriptionId: text("stripe_subscription_id").unique(),
    stripeCustomerId: text("stripe_customer_id").notNull(),
    // "creating" (ours: before Stripe answered) or Stripe's status.
    status: text("status").notNull().default("creating"),
    planKey: text("plan_key").notNull(),
    interval: text("interval").notNull(),
    stripePriceId: text("stripe_price_id"),
    // The subscription item of the plan's metered overage price, when the subscription has one
    // (only then is overage billed, so only then is it allowed: lib/usage/record.ts).
    stripeMeteredItemId: text("stripe_metered_item_id"),
    currentPeriodStart: timestamp("current_period_start", { withTimezone: true }),
    currentPeriodEnd: timestamp("current_period_end", { withTimezone: true }),
    trialEnd: timestamp("trial_end", { withTimezone: true }),
    cancelAtPeriodEnd: boolean("cancel_at_period_end").notNull().default(false),
    // A change waiting for the period end (subscription schedule): what and when.
    stripeScheduleId: text("stripe_schedule_id"),
    scheduledPlanKey: text("scheduled_plan_key"),
    scheduledInterval: text("scheduled_interval"),
    scheduledAt: timestamp("scheduled_at", { withTimezone: true }),
    // Dunning: when the current delinquency started and when its grace period ends; campaigns
    // paused for billing at that end (lib/subscriptions/dunning.ts). Null when paid up.
    pastDueSince: timestamp("past_due_since", { withTimezone: true }),
    graceEndsAt: timestamp("grace_ends_at", { withTimezone: true }),
    endedAt: timestamp("ended_at", { withTimezone: true }),
    syncedAt: timestamp("synced_at", { withTimezone: true }),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    // One live subscription per organisation, enforced by the database.
    uniqueIndex("subscriptions_one_live_per_org")
      .on(t.orgId)
      .where(sql`${t.status} NOT IN ('canceled', 'incomplete_expired')`),
    index("subscriptions_org_idx").on(t.orgId, t.createdAt),
    check("subscriptions_interval", sql`${t.interval} IN ('month', 'year')`),
    check("subscriptions_started_via", sql`${t.startedVia} IN ('page', 'checkout')`),
    check("subscriptions_grace_with_past_due", sql`(${t.graceEndsAt} IS NULL) = (${t.pastDueSince} IS NULL)`),
  ],
);

export type PlanRow = typeof plans.$inferSelect;
export type PlanPriceRow = typeof planPrices.$inferSelect;
export type Subscription = typeof subscriptions.$inferSelect;
