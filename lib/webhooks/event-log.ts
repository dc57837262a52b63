// The webhook event log as staff read it. Status is derived from what processStripeEvent writes,
// so the hot path needs no extra column:
//   processed — processed_at set and we have a handler for the type;
//   ignored   — processed_at set, no handler (acknowledged, nothing to do);
//   failed    — processed_at null (every attempt so far failed; last_error says why).
// The organisation is derived from the payload: our metadata (org_id on PaymentIntents), else the
// purchase linked to the PaymentIntent the object names (charges, refunds, disputes).
import { sql, type SQL } from "drizzle-orm";
import type { DbOrTx } from "@/db/client";
import { handlers } from "./handlers";

export const EVENT_STATUSES = ["processed", "ignored", "failed"] as const;
export type EventStatus = (typeof EVENT_STATUSES)[number];

export const handledEventTypes = (): string[] => Object.keys(handlers);

export type EventLogRow = {
  id: string;
  type: string;
  status: EventStatus;
  attempts: number;
  last_error: string | null;
  received_at: Date;
  processed_at: Date | null;
  org_slug: string | null;
};

const orgOfEvent = sql`coalesce(
  (e.payload->'data'->'object'->'metadata'->>'org_id'),
  (select p.org_id::text from purchases p where p.stripe_payment_intent_id = coalesce(e.payload->'data'->'object'->>'payment_intent', e.payload->'data'->'object'->>'id') limit 1)
)`;

function statusExpr(types: string[]): SQL {
  return sql`case when e.processed_at is null then 'failed' when e.type in (${sql.join(types.map((t) => sql`${t}`), sql`, `)}) then 'processed' else 'ignored' end`;
}

export async function listEventLog(
  db: DbOrTx,
  f: { type?: string; status?: EventStatus; orgId?: string; before?: string; limit?: number } = {},
): Promise<EventLogRow[]> {
  const limit = Math.min(Math.max(f.limit ?? 50, 1), 200);
  const status = statusExpr(handledEventTypes());
  const conds: SQL[] = [sql`true`];
  if (f.type) conds.push(sql`e.type = ${f.type}`);
  if (f.status) conds.push(sql`(${status}) = ${f.status}`);
  if (f.orgId) conds.push(sql`(${orgOfEvent}) = ${f.orgId}`);
  if (f.before) conds.push(sql`(e.received_at, e.id) < (select received_at, id from stripe_events where id = ${f.before})`);
  return db.execute<EventLogRow>(sql`
    select e.id, e.type, (${status}) as status, e.attempts, e.last_error, e.received_at, e.processed_at,
           (select o.slug from organizations o where o.id::text = (${orgOfEvent})) as org_slug
    from stripe_events e
    where ${sql.join(conds, sql` and `)}
    order by e.received_at desc, e.id desc
    limit ${limit}`) as unknown as Promise<EventLogRow[]>;
}

export async function eventTypesSeen(db: DbOrTx): Promise<string[]> {
  const rows = await db.execute<{ type: string }>(sql`select distinct type from stripe_events order by type`);
  return rows.map((r) => r.type);
}

export async function storedEvent(db: DbOrTx, id: string) {
  const [row] = await db.execute<{ id: string; type: string; payload: unknown; attempts: number; last_error: string | null; processed_at: Date | null; received_at: Date }>(
    sql`select id, type, payload, attempts, last_error, processed_at, received_at from stripe_events where id = ${id}`,
  );
  return row ?? null;
}
