// Per-key rate limit for the delivery API, in the database so it holds across app instances:
// one counter row per key per minute, bumped with a single upsert (atomic under concurrency)
// that also reads the previous minute's count. The decision is a sliding window
// (`slidingWindow`): the previous minute counts for the part of it still inside the last 60
// seconds, so a client cannot burst twice the limit across a minute boundary as fixed windows
// allow (the estimate assumes the previous minute's requests were spread evenly).
import { sql } from "drizzle-orm";
import type { DbOrTx } from "@/db/client";

export const DEFAULT_RATE_LIMIT_PER_MINUTE = 600;

/** API_RATE_LIMIT_PER_MINUTE, or the default. */
export function rateLimitPerMinute(): number {
  const n = Number(process.env.API_RATE_LIMIT_PER_MINUTE);
  return Number.isSafeInteger(n) && n > 0 ? n : DEFAULT_RATE_LIMIT_PER_MINUTE;
}

export type RateDecision = { allowed: boolean; limit: number; remaining: number; retryAfterSeconds: number };

/**
 * The sliding-window decision: `previous` requests in the last whole minute, `current` in this
 * one (this request included), `secondsIntoWindow` in [0, 60). Refused when the weighted count
 * exceeds the limit. `retryAfterSeconds` is when a retry (which counts itself) would be allowed
 * if nothing else came: later in this window while this window's count leaves room, else in the
 * next one once this window's share has shrunk enough (at most two minutes).
 */
export function slidingWindow(p: { previous: number; current: number; secondsIntoWindow: number; limit: number }): RateDecision {
  const s = Math.min(Math.max(p.secondsIntoWindow, 0), 60);
  const weighted = (p.previous * (60 - s)) / 60 + p.current;
  const allowed = weighted <= p.limit;
  const remaining = Math.max(0, Math.floor(p.limit - weighted));
  let wait: number;
  if (allowed) wait = 0;
  else if (p.current + 1 <= p.limit && p.previous > 0) {
    // previous × (60 − s − t) / 60 + current + 1 ≤ limit
    wait = 60 - s - (60 * (p.limit - p.current - 1)) / p.previous;
  } else {
    // Next window: current × (60 − t′) / 60 + 1 ≤ limit.
    wait = 60 - s + 60 * Math.max(0, 1 - (p.limit - 1) / p.current);
  }
  return { allowed, limit: p.limit, remaining, retryAfterSeconds: Math.min(120, Math.max(1, Math.ceil(wait))) };
}

/**
 * Counts a request of the key and decides. Null when the key is revoked by now (it was live when
 * the request was authenticated, but a slow body leaves time to revoke it): nothing is counted.
 */
export async function takeRequest(db: DbOrTx, keyId: string, limit: number = rateLimitPerMinute()): Promise<RateDecision | null> {
  const rows = await db.execute<{ count: number; previous: number; seconds_in: number }>(sql`
    WITH cur AS (
      INSERT INTO api_key_windows (key_id, window_start, count)
      SELECT id, date_trunc('minute', now()), 1 FROM api_keys WHERE id = ${keyId} AND revoked_at IS NULL
      ON CONFLICT (key_id, window_start) DO UPDATE SET count = api_key_windows.count + 1
      RETURNING count, window_start
    )
    SELECT cur.count,
           coalesce((SELECT p.count FROM api_key_windows p WHERE p.key_id = ${keyId} AND p.window_start = cur.window_start - interval '1 minute'), 0)::int AS previous,
           extract(epoch from (now() - cur.window_start))::float8 AS seconds_in
    FROM cur`);
  if (!rows[0]) return null;
  const { count, previous, seconds_in } = rows[0];
  // The first request of a window clears this key's old windows (they only ever grow otherwise)
  // and records when the key was last used (to the minute: one write per key per minute).
  if (count === 1) {
    await db.execute(sql`DELETE FROM api_key_windows WHERE key_id = ${keyId} AND window_start < now() - interval '10 minutes'`);
    await db.execute(sql`UPDATE api_keys SET last_used_at = now() WHERE id = ${keyId}`);
  }
  return slidingWindow({ previous, current: count, secondsIntoWindow: Number(seconds_in), limit });
}
