import type { Metadata } from "next";
import Link from "next/link";
import { eq } from "drizzle-orm";
import { z } from "zod";
import { getDb } from "@/db/client";
import { organizations } from "@/db/schema";
import { requireStaffPage } from "@/lib/auth/staff-page";
import { EVENT_STATUSES, eventTypesSeen, listEventLog } from "@/lib/webhooks/event-log";
import { latestResyncRun } from "@/lib/webhooks/resync";
import type { ResyncReport } from "@/lib/webhooks/replay";
import { replayEventAction, resyncEventsAction } from "@/lib/actions/staff-actions";
import { formatDateTime } from "@/components/entry-labels";
import { Badge, Card, PageTitle } from "@/components/ui";
import { Field, inputClass, StaffForm } from "@/components/staff/staff-form";

export const metadata: Metadata = { title: "Webhook events · Staff" };

const query = z.object({
  type: z.string().regex(/^[a-z_.]{1,100}$/).optional().catch(undefined),
  status: z.enum(EVENT_STATUSES).optional().catch(undefined),
  org: z.string().regex(/^[a-z0-9][a-z0-9-]*$/).optional().catch(undefined),
  before: z.string().regex(/^evt_[A-Za-z0-9_]+$/).optional().catch(undefined),
});

const tone = { processed: "green", ignored: "slate", failed: "red" } as const;

export default async function StaffEvents({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  await requireStaffPage();
  const db = getDb();
  const raw = await searchParams;
  const pick = (k: string) => (typeof raw[k] === "string" && raw[k] ? (raw[k] as string) : undefined);
  const f = query.parse({ type: pick("type"), status: pick("status"), org: pick("org"), before: pick("before") });
  const [org] = f.org ? await db.select({ id: organizations.id }).from(organizations).where(eq(organizations.slug, f.org)) : [];
  const [events, types, lastResync] = await Promise.all([
    f.org && !org ? Promise.resolve([]) : listEventLog(db, { type: f.type, status: f.status, orgId: org?.id, before: f.before, limit: 50 }),
    eventTypesSeen(db),
    latestResyncRun(db),
  ]);
  const report = lastResync?.report as ResyncReport | null | undefined;
  const next = events.length === 50 ? events[events.length - 1]!.id : null;
  const qs = (extra: Record<string, string>) => new URLSearchParams({ ...(f.type ? { type: f.type } : {}), ...(f.status ? { status: f.status } : {}), ...(f.org ? { org: f.org } : {}), ...extra }).toString();
  return (
    <>
      <PageTitle title="Webhook events" subtitle="Every event Stripe sent: status, attempts, last error, payload. Replay runs a stored event through the same idempotent path." />
      <Card className="mb-4">
        <h2 className="mb-2 font-semibold">Re-sync from Stripe</h2>
        <p className="mb-2 text-xs text-slate-500">Lists Stripe&apos;s events since the date and processes every one we never processed (after a webhook outage). Runs as a background job; safe to run again.</p>
        <StaffForm action={resyncEventsAction} submitLabel="Re-sync" testId="resync-form" successText="Queued: the result appears below when the job has run.">
          <Field label="Since"><input name="since" type="datetime-local" required className={`${inputClass} max-w-xs`} /></Field>
        </StaffForm>
        <div className="mt-3 text-sm" data-testid="resync-last-run" data-state={!lastResync ? "none" : lastResync.finishedAt ? "done" : lastResync.error ? "retrying" : "queued"}>
          {!lastResync ? (
            <p className="text-slate-500">No re-sync yet.</p>
          ) : (
            <>
              <p>
                Last re-sync: since {formatDateTime(lastResync.since)}, requested {formatDateTime(lastResync.requestedAt)} ·{" "}
                {lastResync.finishedAt ? (
                  <Badge tone={report && report.failed.length > 0 ? "red" : "green"}>finished {formatDateTime(lastResync.finishedAt)}</Badge>
                ) : lastResync.error ? (
                  <Badge tone="red">attempt {lastResync.attempts} failed; retrying</Badge>
                ) : (
                  <Badge tone="amber">{lastResync.startedAt ? "running" : "queued"}</Badge>
                )}
              </p>
              {report && (
                <p className="text-xs text-slate-600">
                  {report.listed} listed: {report.processed} processed now, {report.ignored} ignored, {report.alreadyProcessed} already processed, {report.failed.length} failed
                  {report.skippedOtherMode > 0 ? `, ${report.skippedOtherMode} of the other mode skipped` : ""}.
                </p>
              )}
              {report && report.failed.length > 0 && (
                <ul className="text-xs text-red-700">
                  {report.failed.slice(0, 10).map((x) => <li key={x.id} className="break-all">{x.id}: {x.error}</li>)}
                </ul>
              )}
              {lastResync.error && <p className="break-words text-xs text-red-700">{lastResync.error}</p>}
            </>
          )}
        </div>
      </Card>
      <Card>
        <form method="get" action="/staff/events" className="mb-4 flex flex-wrap items-end gap-2 text-sm">
          <label>Type
            <select name="type" defaultValue={f.type ?? ""} className={inputClass}>
              <option value="">All</option>
              {types.map((t) => <option key={t} value={t}>{t}</option>)}
            </select>
          </label>
          <label>Status
            <select name="status" defaultValue={f.status ?? ""} className={inputClass}>
              <option value="">All</option>
              {EVENT_STATUSES.map((s) => <option key={s} value={s}>{s}</option>)}
            </select>
          </label>
          <label>Organisation (slug)
            <input name="org" defaultValue={f.org ?? ""} className={inputClass} />
          </label>
          <button type="submit" className="rounded-lg border border-slate-300 bg-white px-3 py-1.5 font-medium hover:bg-slate-50">Filter</button>
        </form>
        {events.length === 0 ? (
          <p className="text-sm text-slate-500">No events match.</p>
        ) : (
          <ul className="divide-y divide-slate-100" data-testid="event-log">
            {events.map((e) => (
              <li key={e.id} className="py-2 text-sm">
                <div className="flex flex-wrap items-center justify-between gap-2">
                  <Link href={`/staff/events/${e.id}`} className="font-medium text-indigo-600">{e.type}</Link>
                  <Badge tone={tone[e.status]}>{e.status}</Badge>
                </div>
                <p className="break-all text-xs text-slate-500">
                  {e.id} · {e.org_slug ?? "no organisation"} · received {formatDateTime(new Date(e.received_at))} · {e.attempts} attempt{e.attempts === 1 ? "" : "s"}
                </p>
                {e.last_error && <p className="break-words text-xs text-red-700">{e.last_error}</p>}
                <StaffForm action={replayEventAction} submitLabel="Replay" className="mt-1" successText="Replay: {result}.">
                  <input type="hidden" name="eventId" value={e.id} />
                </StaffForm>
              </li>
            ))}
          </ul>
        )}
        {next && <Link href={`/staff/events?${qs({ before: next })}`} className="mt-3 inline-block text-sm text-indigo-600">Older →</Link>}
      </Card>
    </>
  );
}
