import type { Metadata } from "next";
import Link from "next/link";
import { notFound } from "next/navigation";
import { getDb } from "@/db/client";
import { requireUser } from "@/lib/auth/session";
import { organisationsWithLedger, recentWebhookEvents } from "@/lib/staff/queries";
import { formatCredits } from "@/lib/money/money";
import { handlers } from "@/lib/webhooks/handlers";
import { formatDateTime } from "@/components/entry-labels";
import { Badge, Card, PageTitle } from "@/components/ui";
import { SignOutButton } from "@/components/user-menu";

export const metadata: Metadata = { title: "Staff" };
export const dynamic = "force-dynamic";

export default async function StaffPage() {
  const user = await requireUser();
  if (!user.isStaff) notFound();
  const db = getDb();
  const [orgs, events] = await Promise.all([organisationsWithLedger(db), recentWebhookEvents(db)]);
  return (
    <main className="mx-auto max-w-5xl px-4 py-8">
      <div className="mb-4 flex justify-end"><SignOutButton /></div>
      <PageTitle title="Platform operations" subtitle="Balances against their ledgers, and the Stripe webhook log." />
      <Card>
        <h2 className="mb-2 font-semibold">Organisations</h2>
        <ul className="divide-y divide-slate-100">
          {orgs.map((o) => (
            <li key={o.id} className="flex flex-wrap items-center justify-between gap-2 py-2 text-sm">
              <Link href={`/orgs/${o.slug}/billing`} className="font-medium text-indigo-600 hover:text-indigo-500">{o.name}</Link>
              <span className="tabular-nums">
                {formatCredits(o.balance)} credits · {o.entries} {o.entries === 1 ? "entry" : "entries"}{" "}
                {o.balance === o.ledger_sum ? <Badge tone="green">ledger matches</Badge> : <Badge tone="red">ledger sum {formatCredits(o.ledger_sum)}</Badge>}
              </span>
            </li>
          ))}
        </ul>
      </Card>
      <Card className="mt-4">
        <h2 className="mb-2 font-semibold">Webhook events</h2>
        {events.length === 0 ? (
          <p className="text-sm text-slate-500">No events received yet.</p>
        ) : (
          <ul className="divide-y divide-slate-100">
            {events.map((e) => (
              <li key={e.id} className="py-2 text-sm">
                <div className="flex flex-wrap items-center justify-between gap-2">
                  <span className="font-medium">{e.type}</span>
                  {!e.processedAt ? (
                    <Badge tone="red">failing</Badge>
                  ) : e.type in handlers ? (
                    <Badge tone="green">processed</Badge>
                  ) : (
                    <Badge tone="slate">no handler — acknowledged</Badge>
                  )}
                </div>
                <p className="break-all text-xs text-slate-500">
                  {e.id} · received {formatDateTime(e.receivedAt)} · {e.attempts} attempt{e.attempts === 1 ? "" : "s"}
                </p>
                {e.lastError && <p className="break-words text-xs text-red-700">{e.lastError}</p>}
              </li>
            ))}
          </ul>
        )}
      </Card>
    </main>
  );
}
