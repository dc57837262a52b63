import type { Metadata } from "next";
import Link from "next/link";
import { getDb } from "@/db/client";
import { requireStaffPage } from "@/lib/auth/staff-page";
import { couponOverRedemptions, meterBatchesNeedingAttention, organisationsWithLedger, purchasesNeedingReview, recentWebhookEvents } from "@/lib/staff/queries";
import { meteringConfig } from "@/lib/usage/rules";
import { formatCredits, formatMoney } from "@/lib/money/money";
import { handlers } from "@/lib/webhooks/handlers";
import { formatDateTime } from "@/components/entry-labels";
import { Badge, Card, PageTitle } from "@/components/ui";

export const metadata: Metadata = { title: "Staff" };
export const dynamic = "force-dynamic";

export default async function StaffPage() {
  await requireStaffPage();
  const db = getDb();
  // A batch is late once it has missed two pushes.
  const stuckAfterMinutes = 2 * meteringConfig().pushEveryMinutes;
  const [orgs, events, review, overRedeemed, meterIssues] = await Promise.all([
    organisationsWithLedger(db),
    recentWebhookEvents(db),
    purchasesNeedingReview(db),
    couponOverRedemptions(db),
    meterBatchesNeedingAttention(db, stuckAfterMinutes),
  ]);
  return (
    <>
      <PageTitle title="Platform operations" subtitle="Balances against their ledgers, payments needing review, coupon over-redemptions, metered usage not reaching Stripe, and the Stripe webhook log." />
      <Card>
        <h2 className="mb-2 font-semibold">Organisations</h2>
        <ul className="divide-y divide-slate-100">
          {orgs.map((o) => (
            <li key={o.id} className="flex flex-wrap items-center justify-between gap-2 py-2 text-sm">
              <Link href={`/staff/orgs/${o.slug}`} className="font-medium text-indigo-600 hover:text-indigo-500">{o.name}</Link>
              <span className="tabular-nums">
                {formatCredits(o.balance)} credits · {o.entries} {o.entries === 1 ? "entry" : "entries"}{" "}
                {o.balance === o.ledger_sum ? <Badge tone="green">ledger matches</Badge> : <Badge tone="red">ledger sum {formatCredits(o.ledger_sum)}</Badge>}
              </span>
            </li>
          ))}
        </ul>
      </Card>
      <ListCard
        title="Payments needing review"
        testId="needs-review"
        empty="None: every payment matched its purchase."
        items={review}
        item={(p) => (
          <li key={p.id} className="py-2 text-sm">
            <div className="flex flex-wrap items-center justify-between gap-2">
              <Link href={`/staff/orgs/${p.orgSlug}`} className="font-medium text-indigo-600 hover:text-indigo-500">{p.orgName}</Link>
              <span className="tabular-nums">
                {formatMoney(p.amount, p.currency)} <Badge tone="red">needs review — no credits granted</Badge>
              </span>
            </div>
            <p className="break-words text-xs text-slate-600">{p.reason}</p>
            <p className="break-all text-xs text-slate-500">
              purchase {p.id} · {p.paymentIntentId ?? "no PaymentIntent"}{p.at ? ` · ${formatDateTime(p.at)}` : ""}
            </p>
          </li>
        )}
      />
      <ListCard
        title="Coupon over-redemptions"
        testId="over-redemptions"
        empty="None: every coupon stayed within its limits."
        items={overRedeemed}
        item={(r) => (
          <li key={r.id} className="py-2 text-sm">
            <div className="flex flex-wrap items-center justify-between gap-2">
              <span className="font-medium">{r.code} · {r.orgName}</span>
              <Badge tone="red">{r.reason === "once_per_org" ? "used twice by one organisation" : r.reason === "first_purchase_only" ? "not the organisation's first purchase" : "past its redemption limit"}</Badge>
            </div>
            <p className="break-all text-xs text-slate-500">
              purchase {r.purchaseId} · {formatDateTime(r.at)} ·{" "}
              {r.reason === "first_purchase_only" ? "paid after another purchase of the organisation had succeeded" : "a late payment after its hold was released"}; the credits stand
            </p>
          </li>
        )}
      />
      <ListCard
        title="Metered usage not reaching Stripe"
        testId="meter-issues"
        empty="None: every overage batch was pushed to Stripe's meter on time."
        items={meterIssues}
        item={(b) => (
          <li key={b.id} className="py-2 text-sm">
            <div className="flex flex-wrap items-center justify-between gap-2">
              <Link href={`/staff/orgs/${b.orgSlug}`} className="font-medium text-indigo-600 hover:text-indigo-500">{b.orgName}</Link>
              <span className="tabular-nums">
                {formatCredits(b.credits)} overage credits{" "}
                {b.failedAt ? <Badge tone="red">refused by Stripe — not billed</Badge> : <Badge tone="amber">not pushed after {stuckAfterMinutes} min</Badge>}
              </span>
            </div>
            <p className="break-all text-xs text-slate-500">
              {b.identifier} · batched {formatDateTime(b.createdAt)} · {b.attempts} attempt{b.attempts === 1 ? "" : "s"}
            </p>
            {b.lastError && <p className="break-words text-xs text-red-700">{b.lastError}</p>}
          </li>
        )}
      />
      <Card className="mt-4">
        <h2 className="mb-2 font-semibold">Webhook events <Link href="/staff/events" className="text-sm font-normal text-indigo-600">(full log, filters, replay, re-sync)</Link></h2>
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
                  <Link href={`/staff/events/${e.id}`} className="text-indigo-600 hover:text-indigo-500">{e.id}</Link> · received {formatDateTime(e.receivedAt)} · {e.attempts} attempt{e.attempts === 1 ? "" : "s"}
                </p>
                {e.lastError && <p className="break-words text-xs text-red-700">{e.lastError}</p>}
              </li>
            ))}
          </ul>
        )}
      </Card>
    </>
  );
}

/** A card listing what needs a person's attention, or saying that nothing does. */
function ListCard<T>(p: { title: string; testId: string; empty: string; items: T[]; item: (x: T) => React.ReactNode }) {
  return (
    <Card className="mt-4">
      <h2 className="mb-2 font-semibold">{p.title}</h2>
      {p.items.length === 0 ? (
        <p data-testid={`${p.testId}-empty`} className="text-sm text-slate-500">{p.empty}</p>
      ) : (
        <ul data-testid={p.testId} className="divide-y divide-slate-100">
          {p.items.map(p.item)}
        </ul>
      )}
    </Card>
  );
}
