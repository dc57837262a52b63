// Coupons and their redemptions. A redemption is "held" while its purchase is pending (it counts
// against the cap), becomes "redeemed" when the purchase succeeds and "released" only once its
// PaymentIntent is cancelled at Stripe (lib/coupons/redemptions.ts owns every write). coupon_attempts records failed code entries for throttling.
import { sql } from "drizzle-orm";
import { boolean, check, index, integer, pgTable, text, timestamp, uniqueIndex, uuid } from "drizzle-orm/pg-core";
import { redemptionStatus } from "./enums";
import { organizations } from "./organizations";

export const coupons = pgTable(
  "coupons",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    code: text("code").notNull().unique(),
    description: text("description").notNull().default(""),
    percentOff: integer("percent_off"),
    amountOff: integer("amount_off"),
    currency: text("currency"),
    maxRedemptions: integer("max_redemptions"),
    expiresAt: timestamp("expires_at", { withTimezone: true }),
    active: boolean("active").notNull().default(true),
    firstPurchaseOnly: boolean("first_purchase_only").notNull().default(false),
    oncePerOrg: boolean("once_per_org").notNull().default(false),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    check("coupons_code_upper", sql`${t.code} = upper(${t.code})`),
    check(
      "coupons_one_discount",
      sql`(${t.percentOff} IS NULL) <> (${t.amountOff} IS NULL)`,
    ),
    check("coupons_percent_range", sql`${t.percentOff} IS NULL OR (${t.percentOff} BETWEEN 1 AND 100)`),
    check("coupons_amount_off", sql`${t.amountOff} IS NULL OR (${t.amountOff} > 0 AND ${t.currency} IS NOT NULL)`),
    check("coupons_max_redemptions", sql`${t.maxRedemptions} IS NULL OR ${t.maxRedemptions} > 0`),
    check("coupons_currency_lower", sql`${t.currency} IS NULL OR ${t.currency} = lower(${t.currency})`),
  ],
);

export const couponRedemptions = pgTable(
  "coupon_redemptions",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    couponId: uuid("coupon_id")
      .notNull()
      .references(() => coupons.id),
    orgId: uuid("org_id")
      .notNull()
      .references(() => organizations.id),
    // Unique: one redemption per purchase. (No FK to purchases to avoid a cycle; the service
    // writes both in one transaction.)
    purchaseId: uuid("purchase_id").notNull(),
    status: redemptionStatus("status").notNull().default("held"),
    // Set when a payment succeeded after its hold had been released and redeeming it went past
    // the coupon's limits (cap or once per organisation), or when a first-purchase-only coupon's
    // payment succeeded after another purchase of the organisation had: the customer paid, so the
    // credits stand, and staff see it (lib/coupons/redemptions.ts). Values: "max_redemptions",
    // "once_per_org", "first_purchase_only".
    overRedemption: text("over_redemption"),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex("coupon_redemptions_purchase_idx").on(t.purchaseId),
    index("coupon_redemptions_coupon_idx").on(t.couponId, t.status),
    check("coupon_redemptions_over_only_redeemed", sql`${t.overRedemption} IS NULL OR ${t.status} = 'redeemed'`),
  ],
);

export const couponAttempts = pgTable(
  "coupon_attempts",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    orgId: uuid("org_id")
      .notNull()
      .references(() => organizations.id),
    code: text("code").notNull(),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index("coupon_attempts_org_idx").on(t.orgId, t.createdAt)],
);

export type Coupon = typeof coupons.$inferSelect;
export type CouponRedemption = typeof couponRedemptions.$inferSelect;
