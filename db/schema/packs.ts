// Credit packs: what a one-off top-up buys.
import { sql } from "drizzle-orm";
import { boolean, check, integer, pgTable, text, timestamp, uuid } from "drizzle-orm/pg-core";

export const creditPacks = pgTable(
  "credit_packs",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    slug: text("slug").notNull().unique(),
    name: text("name").notNull(),
    credits: integer("credits").notNull(),
    amount: integer("amount").notNull(),
    currency: text("currency").notNull().default("usd"),
    active: boolean("active").notNull().default(true),
    sortOrder: integer("sort_order").notNull().default(0),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    check("credit_packs_credits_positive", sql`${t.credits} > 0`),
    check("credit_packs_amount_positive", sql`${t.amount} > 0`),
    check("credit_packs_currency_lower", sql`${t.currency} = lower(${t.currency})`),
  ],
);

export type CreditPack = typeof creditPacks.$inferSelect;
