// Liveness and readiness in one: 200 when the app's own database pool answers `select 1`, 503
// when it cannot within DB_HEALTH_TIMEOUT_MS (default 2000), so a load balancer stops sending
// traffic during a database outage and starts again once it is over (lib/db-health.ts).
import { getDb } from "@/db/client";
import { checkDatabaseHealth } from "@/lib/db-health";
import { log } from "@/lib/log";

export const dynamic = "force-dynamic";

export async function GET(): Promise<Response> {
  const health = await checkDatabaseHealth(getDb(), Number(process.env.DB_HEALTH_TIMEOUT_MS) || 2000);
  const headers = { "cache-control": "no-store" };
  if (health.ok) return Response.json({ ok: true, database: "ok", latencyMs: health.latencyMs }, { headers });
  log.warn({ reason: health.reason, latencyMs: health.latencyMs }, "health: database unavailable");
  return Response.json({ ok: false, database: "unavailable", reason: health.reason }, { status: 503, headers });
}
