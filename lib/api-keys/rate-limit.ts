// Per-key rate limit for the delivery API, in the database so it holds across app instances:
// one counter row per key per minute, bumped with a single upsert (atomic under concurrency).
// Fixed windows: a client may burst up to twice the limit across a minute boundary, which is
// acceptable for a limit that protects the service rather than meters it.
import { sql } from "drizzle-orm";
import type { DbOrTx } from "@/db/client";

export const DEFAULT_RATE_LIMIT_PER_MINUTE = 600;

/** API_RATE_LIMIT_PER_MINUTE, or the default. */
export function rateLimitPerMinute(): number {
  const n = Number(process.env.API_RATE_LIMIT_PER_MINUTE);
  return Number.isSafeInteger(n) && n > 0 ? n : DEFAULT_RATE_LIMIT_PER_MINUTE;
}

export type RateDecision = { allowed: boolean; limit: number; remaining: number; retryAfterSeconds: number };

export async function takeRequest(db: DbOrTx, keyId: string, limit: number = rateLimitPerMinute()): Promise<RateDecision> {
  const rows = await db.execute<{ count: number; retry_after: number }>(sql`
    INSERT INTO api_key_windows (key_id, window_start, count)
    VALUES (${keyId}, date_trunc('minute', now()), 1)
    ON CONFLICT (key_id, window_start) DO UPDATE SET count = api_key_windows.count + 1
    RETURNING count, ceil(extract(epoch from (window_start + interval '1 minute' - now())))::int AS retry_after`);
  const { count, retry_after } = rows[0]!;
  // The first request of a window clears this key's old windows (they only ever grow otherwise)
  // and records when the key was last used (to the minute: one write per key per minute).
  if (count === 1) {
    await db.execute(sql`DELETE FROM api_key_windows WHERE key_id = ${keyId} AND window_start < now() - interval '10 minutes'`);
    await db.execute(sql`UPDATE api_keys SET last_used_at = now() WHERE id = ${keyId}`);
  }
  return { allowed: count <= limit, limit, remaining: Math.max(0, limit - count), retryAfterSeconds: Math.max(1, retry_after) };
}
