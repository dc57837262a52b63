// A fingerprint of every row in every application table (all schemas but PostgreSQL's own and
// drizzle's migration log): equal fingerprints before and after a call mean the call inserted,
// updated and deleted nothing. Used by the access-matrix and bad-input tests. Of the job queue's
// schema only the jobs count (a refused call must enqueue nothing); pg-boss's own bookkeeping
// (version, schedules, queue stats) changes by itself while any worker runs.
import { sql } from "drizzle-orm";
import type { Db } from "@/db/client";

export type Fingerprint = Record<string, string>;

export async function dbFingerprint(db: Db, opts: { except?: string[] } = {}): Promise<Fingerprint> {
  const tables = await db.execute<{ schema: string; name: string }>(sql`
    select table_schema as schema, table_name as name from information_schema.tables
    where table_type = 'BASE TABLE' and table_schema not in ('pg_catalog', 'information_schema', 'drizzle')
    order by 1, 2`);
  const out: Fingerprint = {};
  for (const t of tables) {
    const key = `${t.schema}.${t.name}`;
    if (opts.except?.includes(t.name) || opts.except?.includes(key)) continue;
    if (t.schema === "pgboss" && t.name !== "job") continue;
    const ident = `"${t.schema.replaceAll('"', '""')}"."${t.name.replaceAll('"', '""')}"`;
    const [row] = await db.execute<{ n: number; h: string | null }>(
      sql.raw(`select count(*)::int as n, md5(string_agg(t::text, '|' order by t::text)) as h from ${ident} t`),
    );
    out[key] = `${row!.n}:${row!.h ?? "-"}`;
  }
  return out;
}

/** Table names whose rows differ between two fingerprints. */
export function changedTables(before: Fingerprint, after: Fingerprint): string[] {
  const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
  return [...keys].filter((k) => before[k] !== after[k]).sort();
}
