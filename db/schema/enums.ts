// Postgres enums shared by several tables.
import { pgEnum } from "drizzle-orm/pg-core";

export const membershipRole = pgEnum("membership_role", ["member", "admin"]);

export const creditEntryKind = pgEnum("credit_entry_kind", [
  "purchase",
  "subscription_grant",
  "trial_grant",
  "usage",
  "refund_reversal",
  "adjustment",
  "bonus",
  "expiry",
]);

// needs_review: Stripe reports a payment that does not match the purchase (amount or currency);
// nothing is granted automatically and staff look at it (lib/topups/decide.ts).
export const purchaseStatus = pgEnum("purchase_status", ["pending", "succeeded", "failed", "canceled", "needs_review"]);

export const redemptionStatus = pgEnum("coupon_redemption_status", ["held", "redeemed", "released"]);

export const campaignStatus = pgEnum("campaign_status", [
  "draft",
  "approved",
  "active",
  "paused",
  "completed",
  "cancelled",
]);

export const pauseReason = pgEnum("campaign_pause_reason", ["insufficient_credits", "billing"]);

export const deliveryStatus = pgEnum("delivery_status", ["delivered", "refused"]);

export const notificationKind = pgEnum("notification_kind", ["low_balance", "auto_recharge_failed", "card_setup_failed"]);

export const cardSetupStatus = pgEnum("card_setup_status", ["started", "succeeded", "failed", "superseded", "canceled"]);
