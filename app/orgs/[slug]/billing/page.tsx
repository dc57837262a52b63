import type { Metadata } from "next";
import Link from "next/link";
import { getDb } from "@/db/client";
import { orgPageAccess } from "@/lib/auth/org-page";
import { campaignCounts, orgBalance } from "@/lib/billing/queries";
import { listEntries } from "@/lib/ledger/queries";
import { formatCredits } from "@/lib/money/money";
import { LedgerList } from "@/components/ledger-table";
import { dailyUsage, depletionForecast, recentNotifications } from "@/lib/balance-care/queries";
import { forecastSentence } from "@/lib/balance-care/rules";
import { UsageChart } from "@/components/billing/usage-chart";
import { PausedNotice } from "@/components/paused-notice";
import { PastDueBanner } from "@/components/plan/past-due-banner";
import { pastDue } from "@/lib/subscriptions/queries";
import { overageSummary } from "@/lib/usage/queries";
import { OverageCard } from "@/components/billing/overage-card";
import { ButtonLink, Card, PageTitle } from "@/components/ui";

export const metadata: Metadata = { title: "Billing" };

export default async function BillingOverview({ params }: { params: Promise<{ slug: string }> }) {
  const { slug } = await params;
  const { org, role } = await orgPageAccess(slug);
  const db = getDb();
  const [balance, counts, recent, delinquent, usage, notices, overage] = await Promise.all([
    orgBalance(db, org.id),
    campaignCounts(db, org.id),
    listEntries(db, { orgId: org.id, limit: 5 }),
    pastDue(db, org.id),
    dailyUsage(db, org.id, 30),
    recentNotifications(db, org.id, 5),
    overageSummary(db, org.id),
  ]);
  const forecastDays = await depletionForecast(db, org.id, balance);
  return (
    <>
      <PageTitle title="Billing" subtitle="Credits pay for campaign deliveries. Top up any time." />
      {delinquent && <PastDueBanner slug={slug} graceEndsAt={delinquent.graceEndsAt.toISOString()} graceOver={delinquent.graceOver} canFix={role === "admin"} />}
      <PausedNotice slug={slug} count={counts.pausedForCredits} />
      <div className="grid gap-4 sm:grid-cols-3">
        <Card className="sm:col-span-2">
          <p className="text-sm text-slate-600">Current balance</p>
          <p className="mt-1 text-4xl font-semibold tabular-nums">
            <span data-testid="balance">{formatCredits(balance)}</span> <span className="text-lg font-normal text-slate-500">credits</span>
          </p>
          <p data-testid="forecast" className="mt-1 text-sm text-slate-600">{forecastSentence(forecastDays, balance)}</p>
          {balance < 0 && <p className="mt-2 text-sm text-red-700">Your balance is negative after a reversal. Spending is blocked until it is covered.</p>}
          <div className="mt-4 flex flex-wrap gap-2">
            {role !== null && <ButtonLink href={`/orgs/${slug}/billing/top-up`}>Top up credits</ButtonLink>}
            <ButtonLink href={`/orgs/${slug}/billing/transactions`} variant="secondary">All transactions</ButtonLink>
          </div>
        </Card>
        <Card>
          <p className="text-sm text-slate-600">Campaigns</p>
          <p className="mt-1 text-2xl font-semibold tabular-nums">{counts.active} running</p>
          <p className="text-sm text-slate-600">
            {counts.pausedForCredits > 0 ? `${counts.pausedForCredits} paused for credits` : "none paused for credits"}
          </p>
          <Link href={`/orgs/${slug}/campaigns`} className="mt-3 inline-block text-sm font-medium text-indigo-600 hover:text-indigo-500">
            View campaigns →
          </Link>
        </Card>
      </div>
      {overage && <OverageCard summary={overage} />}
      <Card className="mt-4">
        <h2 className="mb-2 font-semibold">Credits in and out</h2>
        <UsageChart data={usage} />
      </Card>
      {notices.length > 0 && (
        <Card className="mt-4">
          <h2 className="mb-2 font-semibold">Notices</h2>
          <ul className="divide-y divide-slate-100" data-testid="notices">
            {notices.map((n) => (
              <li key={n.id} data-kind={n.kind} className="py-2 text-sm">
                <span className="text-slate-500">{n.createdAt.toLocaleString("en-US", { dateStyle: "medium", timeStyle: "short", timeZone: "UTC" })} UTC · </span>
                {n.message}
              </li>
            ))}
          </ul>
        </Card>
      )}
      <Card className="mt-4">
        <div className="mb-2 flex items-center justify-between">
          <h2 className="font-semibold">Recent transactions</h2>
          <Link href={`/orgs/${slug}/billing/transactions`} className="text-sm font-medium text-indigo-600 hover:text-indigo-500">
            See all
          </Link>
        </div>
        <LedgerList entries={recent.entries} />
      </Card>
    </>
  );
}
