import type { Metadata } from "next";
import { notFound } from "next/navigation";
import { getDb } from "@/db/client";
import { requireStaffPage } from "@/lib/auth/staff-page";
import { storedEvent } from "@/lib/webhooks/event-log";
import { replayEventAction } from "@/lib/actions/staff-actions";
import { formatDateTime } from "@/components/entry-labels";
import { Card, PageTitle } from "@/components/ui";
import { StaffForm } from "@/components/staff/staff-form";

export const metadata: Metadata = { title: "Event · Staff" };

export default async function StaffEvent({ params }: { params: Promise<{ id: string }> }) {
  await requireStaffPage();
  const { id } = await params;
  if (!/^evt_[A-Za-z0-9_]{1,100}$/.test(id)) notFound();
  const e = await storedEvent(getDb(), id);
  if (!e) notFound();
  return (
    <>
      <PageTitle title={e.type} subtitle={e.id} />
      <Card>
        <p className="text-sm">
          Received {formatDateTime(new Date(e.received_at))} · {e.attempts} attempt{e.attempts === 1 ? "" : "s"} ·{" "}
          {e.processed_at ? `processed ${formatDateTime(new Date(e.processed_at))}` : "not processed"}
        </p>
        {e.last_error && <p className="mt-1 break-words text-sm text-red-700">Last error: {e.last_error}</p>}
        <StaffForm action={replayEventAction} submitLabel="Replay" className="mt-2" successText="Replay: {result}.">
          <input type="hidden" name="eventId" value={e.id} />
        </StaffForm>
        <h2 className="mt-4 font-semibold">Payload</h2>
        <pre className="mt-2 max-h-[40rem] overflow-auto whitespace-pre-wrap break-all rounded bg-slate-50 p-3 text-xs" data-testid="event-payload">{JSON.stringify(e.payload, null, 2)}</pre>
      </Card>
    </>
  );
}
