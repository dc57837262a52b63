// Expiring credit grants ("buckets"): one row per ledger grant whose credits expire (subscription
// and trial credits of plans with `creditsExpire`). The ledger stays the source of truth for the
// balance; a bucket only says how much of its grant is still unspent, so that usage drains the
// soonest-expiring grant first and the expiry job knows what to take back.
// Invariants (lib/ledger/ledger.ts and lib/ledger/expiry.ts are the only writers):
//   - a bucket is inserted by the same statement as its grant entry (entry_id, unique);
//   - 0 <= remaining <= amount; remaining only decreases (debits, then the expiry);
//   - once expired_at is set, remaining is 0 and the `expiry:<bucket id>` entry exists (or there
//     was nothing left to take back).
import { sql } from "drizzle-orm";
import { bigint, check, index, integer, pgTable, timestamp, uuid } from "drizzle-orm/pg-core";
import { organizations } from "./organizations";
import { creditEntries } from "./ledger";

export const creditGrants = pgTable(
  "credit_grants",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    orgId: uuid("org_id")
      .notNull()
      .references(() => organizations.id),
    entryId: bigint("entry_id", { mode: "number" })
      .notNull()
      .unique()
      .references(() => creditEntries.id),
    amount: integer("amount").notNull(),
    remaining: integer("remaining").notNull(),
    expiresAt: timestamp("expires_at", { withTimezone: true }).notNull(),
    expiredAt: timestamp("expired_at", { withTimezone: true }),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    check("credit_grants_amount_positive", sql`${t.amount} > 0`),
    check("credit_grants_remaining_range", sql`${t.remaining} >= 0 and ${t.remaining} <= ${t.amount}`),
    check("credit_grants_expired_empty", sql`${t.expiredAt} is null or ${t.remaining} = 0`),
    // Debits walk an organisation's live buckets in expiry order.
    index("credit_grants_live_idx").on(t.orgId, t.expiresAt, t.id).where(sql`${t.remaining} > 0`),
  ],
);

export type CreditGrant = typeof creditGrants.$inferSelect;
