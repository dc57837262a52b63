// Organisation API keys for the platform's delivery API. Only the SHA-256 of a key is stored
// (a key is 32 random bytes, so a plain hash is enough: no guessing, no salt needed); the key
// itself is shown once when created. `prefix` is what people see to tell keys apart. A revoked
// key stays as a record (revoked_at set) and authenticates nothing. api_key_windows counts
// requests per key per minute for the rate limit (lib/api-keys/rate-limit.ts).
import { sql } from "drizzle-orm";
import { check, index, integer, pgTable, primaryKey, text, timestamp, uuid } from "drizzle-orm/pg-core";
import { organizations, users } from "./organizations";

export const apiKeys = pgTable(
  "api_keys",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    orgId: uuid("org_id")
      .notNull()
      .references(() => organizations.id),
    name: text("name").notNull(),
    prefix: text("prefix").notNull(),
    keyHash: text("key_hash").notNull().unique(),
    createdByUserId: uuid("created_by_user_id").references(() => users.id),
    revokedByUserId: uuid("revoked_by_user_id").references(() => users.id),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    revokedAt: timestamp("revoked_at", { withTimezone: true }),
    lastUsedAt: timestamp("last_used_at", { withTimezone: true }),
  },
  (t) => [
    check("api_keys_hash_format", sql`${t.keyHash} ~ '^[0-9a-f]{64}$'`),
    index("api_keys_org_idx").on(t.orgId, t.createdAt),
  ],
);

export const apiKeyWindows = pgTable(
  "api_key_windows",
  {
    keyId: uuid("key_id")
      .notNull()
      .references(() => apiKeys.id),
    windowStart: timestamp("window_start", { withTimezone: true }).notNull(),
    count: integer("count").notNull(),
  },
  (t) => [primaryKey({ columns: [t.keyId, t.windowStart] })],
);

export type ApiKey = typeof apiKeys.$inferSelect;
