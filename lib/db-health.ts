// The database part of the health endpoint: `select 1` through the app's own pool, cut off after
// `timeoutMs`, so a pool that cannot reach the database reports it quickly instead of hanging
// the probe. Never throws.
import { sql } from "drizzle-orm";
import type { Db } from "@/db/client";
import { classifyDbError } from "./db-errors";

export type DbHealth = { ok: true; latencyMs: number } | { ok: false; reason: string; latencyMs: number };

export async function checkDatabaseHealth(db: Db, timeoutMs = 2000): Promise<DbHealth> {
  const started = performance.now();
  const latencyMs = () => Math.round(performance.now() - started);
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await Promise.race([
      db.execute(sql`select 1`),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(Object.assign(new Error(`no answer within ${timeoutMs} ms`), { code: "HEALTH_TIMEOUT" })), timeoutMs);
      }),
    ]);
    return { ok: true, latencyMs: latencyMs() };
  } catch (e) {
    const code = classifyDbError(e)?.code ?? (e as { code?: unknown }).code;
    return { ok: false, reason: typeof code === "string" ? code : "error", latencyMs: latencyMs() };
  } finally {
    clearTimeout(timer);
  }
}
