// Per-organisation balance care: the low-balance threshold, auto-recharge (saved card, threshold,
// pack) and the notifications recorded for the admins. A crossing (balance before the debit at or
// above a threshold, after it below) is detected in the debit's own transaction
// (lib/balance-care/after-debit.ts), so each crossing records one notification and starts at most one
// auto-recharge, whatever the concurrency. notifications.cause_key is unique per cause
// (low_balance:<entry id>, auto_recharge_failed:<purchase id>, card_setup_failed:<card setup id>).
import { sql } from "drizzle-orm";
import { bigint, bigserial, boolean, check, index, integer, jsonb, pgTable, text, timestamp, uuid } from "drizzle-orm/pg-core";
import { cardSetupStatus, notificationKind } from "./enums";
import { organizations, users } from "./organizations";
import { creditPacks } from "./packs";
import { purchases } from "./purchases";

// One row per attempt to save a card (a SetupIntent, or a top-up with setup_future_usage), made
// before the SetupIntent / PaymentIntent so that its id orders attempts: a result (the page's verification or a setup_intent.* webhook, whichever comes
// first) replaces the saved card only when its attempt is newer than the one that saved the
// current card (balance_settings.card_setup_id); an older one that succeeds late is "superseded"
// and its card detached at Stripe. Statuses: started → succeeded | superseded | failed (a failed
// SetupIntent may still be confirmed again with another card) | canceled.
export const cardSetups = pgTable(
  "card_setups",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    orgId: uuid("org_id")
      .notNull()
      .references(() => organizations.id),
    userId: uuid("user_id")
      .notNull()
      .references(() => users.id),
    requestId: uuid("request_id").notNull().unique(),
    stripeSetupIntentId: text("stripe_setup_intent_id").unique(),
    // Or a top-up paid with setup_future_usage (the card is saved when the payment succeeds).
    purchaseId: uuid("purchase_id")
      .unique()
      .references(() => purchases.id),
    status: cardSetupStatus("status").notNull().default("started"),
    paymentMethodId: text("payment_method_id"),
    failureCode: text("failure_code"),
    failureMessage: text("failure_message"),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index("card_setups_org_idx").on(t.orgId, t.id)],
);

export const balanceSettings = pgTable(
  "balance_settings",
  {
    orgId: uuid("org_id")
      .primaryKey()
      .references(() => organizations.id),
    lowBalanceThreshold: integer("low_balance_threshold"),
    autoRechargeEnabled: boolean("auto_recharge_enabled").notNull().default(false),
    autoRechargeThreshold: integer("auto_recharge_threshold"),
    autoRechargePackId: uuid("auto_recharge_pack_id").references(() => creditPacks.id),
    // The saved card (SetupIntent for off-session use) and who saved it: the purchases an
    // auto-recharge makes are in their name.
    paymentMethodId: text("payment_method_id"),
    cardBrand: text("card_brand"),
    cardLast4: text("card_last4"),
    cardSavedByUserId: uuid("card_saved_by_user_id").references(() => users.id),
    // The attempt that saved the current card: a result of an older attempt never replaces it.
    cardSetupId: bigint("card_setup_id", { mode: "number" }).references(() => cardSetups.id),
    // Why auto-recharge turned itself off (a failed payment), shown to admins.
    autoRechargeDisabledReason: text("auto_recharge_disabled_reason"),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    check("balance_settings_low_threshold", sql`${t.lowBalanceThreshold} IS NULL OR ${t.lowBalanceThreshold} > 0`),
    check("balance_settings_recharge_threshold", sql`${t.autoRechargeThreshold} IS NULL OR ${t.autoRechargeThreshold} > 0`),
    check(
      "balance_settings_recharge_complete",
      sql`NOT ${t.autoRechargeEnabled} OR (${t.autoRechargeThreshold} IS NOT NULL AND ${t.autoRechargePackId} IS NOT NULL AND ${t.paymentMethodId} IS NOT NULL AND ${t.cardSavedByUserId} IS NOT NULL)`,
    ),
  ],
);

export const notifications = pgTable(
  "notifications",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    orgId: uuid("org_id")
      .notNull()
      .references(() => organizations.id),
    kind: notificationKind("kind").notNull(),
    causeKey: text("cause_key").notNull().unique(),
    message: text("message").notNull(),
    data: jsonb("data").notNull().default({}),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index("notifications_org_idx").on(t.orgId, t.createdAt)],
);

export type BalanceSettings = typeof balanceSettings.$inferSelect;
export type CardSetup = typeof cardSetups.$inferSelect;
export type Notification = typeof notifications.$inferSelect;
