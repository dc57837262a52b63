import type { Metadata } from "next";
import Link from "next/link";
import { notFound } from "next/navigation";
import { z } from "zod";
import { getDb } from "@/db/client";
import { requireStaffPage } from "@/lib/auth/staff-page";
import { organisationBilling, organisationDetail } from "@/lib/staff/orgs";
import { planByKey } from "@/lib/plans/catalogue";
import { listEntries } from "@/lib/ledger/queries";
import { listAudit } from "@/lib/audit/audit";
import { formatCredits, formatMoney } from "@/lib/money/money";
import { adjustCreditsAction, refundPurchaseAction } from "@/lib/actions/staff-actions";
import { LedgerList } from "@/components/ledger-table";
import { formatDateTime } from "@/components/entry-labels";
import { Badge, Card, PageTitle } from "@/components/ui";
import { Field, inputClass, StaffForm } from "@/components/staff/staff-form";
import { AuditList } from "@/components/staff/audit-list";

export const metadata: Metadata = { title: "Organisation · Staff" };

const query = z.object({ before: z.coerce.number().int().positive().optional().catch(undefined) });

export default async function StaffOrgDetail({
  params,
  searchParams,
}: {
  params: Promise<{ slug: string }>;
  searchParams: Promise<Record<string, string | string[] | undefined>>;
}) {
  await requireStaffPage();
  const { slug } = await params;
  const db = getDb();
  const detail = await organisationDetail(db, slug);
  if (!detail) notFound();
  const { org } = detail;
  const raw = await searchParams;
  const { before } = query.parse({ before: raw.before || undefined });
  const [ledger, audit, billing] = await Promise.all([
    listEntries(db, { orgId: org.id, before, limit: 25 }),
    listAudit(db, { orgId: org.id, limit: 20 }),
    organisationBilling(db, org.id, 12),
  ]);
  const { plan, invoices } = billing;
  const planName = (key: string | null) => (key ? (planByKey(key)?.name ?? key) : "");
  const every = (interval: string | null) => (interval === "year" ? "annual" : "monthly");
  const day = (iso: string | null) => (iso ? formatDateTime(new Date(iso)) : "—");
  const refundedBy = new Map<string, number>();
  for (const r of detail.refunds) if (r.status !== "failed") refundedBy.set(r.purchaseId, (refundedBy.get(r.purchaseId) ?? 0) + r.amount);

  return (
    <>
      <PageTitle title={org.name} subtitle={`${org.slug} · created ${formatDateTime(org.createdAt)}`} />
      {detail.openDisputes.length > 0 && (
        <Card className="mb-4 border-red-300">
          <p className="text-sm font-semibold text-red-700" data-testid="dispute-flag">
            Flagged: {detail.openDisputes.length} open dispute{detail.openDisputes.length === 1 ? "" : "s"} (
            {detail.openDisputes.map((d) => `${d.stripeDisputeId} ${d.status}`).join(", ")})
          </p>
        </Card>
      )}
      <div className="grid gap-4 md:grid-cols-2">
        <Card>
          <h2 className="mb-2 font-semibold">Balance</h2>
          <p className="text-2xl font-semibold tabular-nums" data-testid="staff-org-balance">{formatCredits(org.balance)} credits</p>
          <p className="mt-1 text-sm">
            Ledger: {detail.entryCount} entries, sum {formatCredits(detail.ledgerSum)}{" "}
            {detail.ledgerSum === org.balance ? <Badge tone="green">matches</Badge> : <Badge tone="red">differs from the balance</Badge>}
            {org.balance < 0 && <> <Badge tone="red">negative: spending stopped until covered</Badge></>}
          </p>
          <h3 className="mt-4 text-sm font-semibold">Members</h3>
          <ul className="text-sm">
            {detail.members.map((m) => (
              <li key={m.email}>{m.email} · {m.role}</li>
            ))}
          </ul>
        </Card>
        <Card>
          <h2 className="mb-2 font-semibold">Adjust credits</h2>
          <p className="mb-2 text-xs text-slate-500">A new ledger entry with your name and the reason; entries are never edited. A correction may not take the balance below zero.</p>
          <StaffForm action={adjustCreditsAction} submitLabel="Record adjustment" testId="adjust-form" successText="Recorded; balance now {balanceAfter}.">
            <input type="hidden" name="orgSlug" value={org.slug} />
            <Field label="Kind">
              <select name="kind" aria-label="Kind" className={inputClass} defaultValue="bonus">
                <option value="bonus">Bonus (adds credits)</option>
                <option value="correction">Correction (+ or −)</option>
              </select>
            </Field>
            <Field label="Credits">
              <input name="amount" inputMode="numeric" required className={inputClass} />
            </Field>
            <Field label="Reason (required)">
              <input name="reason" required minLength={3} maxLength={500} className={inputClass} />
            </Field>
          </StaffForm>
        </Card>
      </div>
      <div className="mt-4 grid gap-4 md:grid-cols-2">
        <Card>
          <h2 className="mb-2 font-semibold">Plan</h2>
          {!plan ? (
            <p className="text-sm text-slate-500" data-testid="staff-org-plan" data-status="none">No plan.</p>
          ) : (
            <div className="space-y-1 text-sm" data-testid="staff-org-plan" data-status={plan.status}>
              <p>
                <span className="font-medium">{planName(plan.planKey)}</span> · {every(plan.interval)}{" "}
                <Badge tone={plan.status === "active" || plan.status === "trialing" ? "green" : plan.status === "past_due" || plan.status === "unpaid" ? "red" : "slate"}>{plan.status}</Badge>
              </p>
              <p>Current period: {day(plan.currentPeriodStart)} → {day(plan.currentPeriodEnd)}</p>
              {plan.trialEnd && plan.status === "trialing" && <p>Trial ends {day(plan.trialEnd)}</p>}
              <p>Cancel at period end: {plan.cancelAtPeriodEnd ? <Badge tone="amber">yes, ends {day(plan.currentPeriodEnd)}</Badge> : "no"}</p>
              {plan.scheduledPlanKey && (
                <p>Scheduled change: {planName(plan.scheduledPlanKey)} · {every(plan.scheduledInterval)} from {day(plan.scheduledAt)}</p>
              )}
              {plan.graceEndsAt && (
                <p className="text-red-700">
                  Past due: grace period {plan.graceOver ? "ended" : "ends"} {day(plan.graceEndsAt)}
                  {plan.graceOver ? " (campaigns paused for billing)" : " (campaigns keep running until then)"}
                </p>
              )}
              {plan.endedAt && <p>Ended {day(plan.endedAt)}</p>}
            </div>
          )}
        </Card>
        <Card>
          <h2 className="mb-2 font-semibold">Invoices <span className="text-xs font-normal text-slate-500">(last 12, from Stripe)</span></h2>
          {invoices === null ? (
            <p className="text-sm text-amber-700">Could not load the invoices from Stripe just now. Reload to try again.</p>
          ) : invoices.length === 0 ? (
            <p className="text-sm text-slate-500">{billing.customerId ? "No invoices." : "No Stripe customer yet."}</p>
          ) : (
            <ul className="divide-y divide-slate-100 text-sm" data-testid="staff-org-invoices">
              {invoices.map((i) => (
                <li key={i.id} className="flex flex-wrap items-center justify-between gap-2 py-1.5">
                  <span className="text-slate-700">{formatDateTime(i.created)}</span>
                  <span className="tabular-nums">{formatMoney(i.total, i.currency)}</span>
                  <Badge tone={i.status === "paid" ? "green" : i.status === "open" ? "amber" : "slate"}>{i.status ?? "—"}</Badge>
                  {i.url ? (
                    <a href={i.url} target="_blank" rel="noreferrer" className="text-indigo-600 hover:text-indigo-500">{i.number ?? i.id}</a>
                  ) : (
                    <span className="break-all text-xs text-slate-500">{i.number ?? i.id}</span>
                  )}
                </li>
              ))}
            </ul>
          )}
        </Card>
      </div>
      <Card className="mt-4">
        <h2 className="mb-2 font-semibold">Purchases</h2>
        {detail.purchases.length === 0 ? (
          <p className="text-sm text-slate-500">No purchases.</p>
        ) : (
          <ul className="divide-y divide-slate-100" data-testid="staff-purchases">
            {detail.purchases.map(({ purchase: p, packName }) => {
              const refunded = refundedBy.get(p.id) ?? 0;
              return (
                <li key={p.id} className="py-2 text-sm">
                  <div className="flex flex-wrap items-center justify-between gap-2">
                    <span className="font-medium">{packName} · {formatCredits(p.credits)} credits · {formatMoney(p.amount, p.currency)}</span>
                    <span>
                      <Badge tone={p.status === "succeeded" ? "green" : p.status === "pending" ? "amber" : "red"}>{p.status}</Badge>
                      {refunded > 0 && <> <Badge tone="slate">refunded {formatMoney(refunded, p.currency)}</Badge></>}
                    </span>
                  </div>
                  <p className="break-all text-xs text-slate-500">{p.id} · {p.stripePaymentIntentId ?? "no PaymentIntent"} · {formatDateTime(p.createdAt)}</p>
                  {p.status === "succeeded" && refunded < p.amount && (
                    <details className="mt-1">
                      <summary className="cursor-pointer text-xs text-indigo-600">Refund…</summary>
                      <StaffForm action={refundPurchaseAction} submitLabel="Refund at Stripe" confirmText="Refund this payment at Stripe?" className="mt-2 max-w-md" successText="Refund requested; credits are reversed when Stripe confirms it.">
                        <input type="hidden" name="purchaseId" value={p.id} />
                        <Field label={`Amount in minor units (blank = the rest, ${p.amount - refunded})`}>
                          <input name="amount" inputMode="numeric" className={inputClass} />
                        </Field>
                        <Field label="Reason (required)">
                          <input name="reason" required minLength={3} maxLength={500} className={inputClass} />
                        </Field>
                      </StaffForm>
                    </details>
                  )}
                </li>
              );
            })}
          </ul>
        )}
      </Card>
      <Card className="mt-4">
        <h2 className="mb-2 font-semibold">Ledger</h2>
        <LedgerList entries={ledger.entries} />
        <nav className="mt-3 flex justify-between text-sm">
          {before ? <Link href={`/staff/orgs/${org.slug}`} className="text-indigo-600">← Newest</Link> : <span />}
          {ledger.nextCursor && <Link href={`/staff/orgs/${org.slug}?before=${ledger.nextCursor}`} className="text-indigo-600">Older →</Link>}
        </nav>
      </Card>
      <Card className="mt-4">
        <h2 className="mb-2 font-semibold">Audit</h2>
        <AuditList rows={audit.rows} />
        <Link href={`/staff/events?org=${org.slug}`} className="mt-2 inline-block text-sm text-indigo-600">Webhook events of this organisation →</Link>
      </Card>
    </>
  );
}
