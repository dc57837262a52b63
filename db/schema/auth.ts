// Credential sign-in attempts, the record the sign-in throttle counts (lib/auth/sign-in.ts).
// One row per attempt that got past the throttle: it is written as a failure *before* the
// password is checked (so parallel guesses count at once) and flipped to succeeded after a
// correct password. Rows exist for unknown emails too, so a lock reveals nothing about accounts.
import { bigserial, boolean, index, pgTable, text, timestamp } from "drizzle-orm/pg-core";

export const signInAttempts = pgTable(
  "sign_in_attempts",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    // The email as typed (trimmed, lower-cased), whether or not an account has it.
    email: text("email").notNull(),
    // Client address (first X-Forwarded-For hop, else the connection's address, else "unknown").
    address: text("address").notNull(),
    succeeded: boolean("succeeded").notNull().default(false),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index("sign_in_attempts_email_idx").on(t.email, t.createdAt), index("sign_in_attempts_address_idx").on(t.address, t.createdAt)],
);

export type SignInAttempt = typeof signInAttempts.$inferSelect;
