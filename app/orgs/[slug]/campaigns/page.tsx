import type { Metadata } from "next";
import { getDb } from "@/db/client";
import { orgPageAccess } from "@/lib/auth/org-page";
import { listCampaigns } from "@/lib/billing/queries";
import { campaignSpend } from "@/lib/balance-care/queries";
import { RecordDeliveryButton } from "@/components/deliveries/record-delivery-button";
import { demoAccessAllowed } from "@/lib/deployment";
import { formatCredits } from "@/lib/money/money";
import { CampaignStatusBadge } from "@/components/campaign-status";
import { PausedNotice } from "@/components/paused-notice";
import { Card, PageTitle } from "@/components/ui";

export const metadata: Metadata = { title: "Campaigns" };

export default async function Campaigns({ params }: { params: Promise<{ slug: string }> }) {
  const { slug } = await params;
  const { org, role } = await orgPageAccess(slug);
  const db = getDb();
  const demoButton = demoAccessAllowed(process.env);
  const [campaigns, spend] = await Promise.all([listCampaigns(db, org.id), campaignSpend(db, org.id)]);
  const pausedForCredits = campaigns.filter((c) => c.status === "paused" && c.pauseReason === "insufficient_credits").length;
  return (
    <>
      <PageTitle title="Campaigns" subtitle="Each delivery spends credits. Campaigns paused for credits resume as soon as a top-up covers them." />
      <PausedNotice slug={slug} count={pausedForCredits} />
      <Card>
        {campaigns.length === 0 ? (
          <p className="py-6 text-center text-sm text-slate-500">No campaigns yet.</p>
        ) : (
          <ul className="divide-y divide-slate-100">
            {campaigns.map((c) => (
              <li key={c.id} data-testid="campaign-row" data-status={c.status} data-pause-reason={c.pauseReason ?? ""} className="flex flex-wrap items-center justify-between gap-2 py-3">
                <div className="min-w-0">
                  <p className="font-medium">{c.name}</p>
                  <p className="text-sm text-slate-600">
                    {formatCredits(c.costPerDelivery)} credits per delivery · {formatCredits(c.deliveriesCount)} deliveries
                  </p>
                  <p className="text-sm text-slate-600" data-testid="campaign-spend">
                    Spent {formatCredits(spend.get(c.id)?.total ?? 0)} credits · {formatCredits(spend.get(c.id)?.last7Days ?? 0)} in the last 7 days
                  </p>
                  <p className="font-mono text-xs text-slate-400" title="Campaign id (delivery API)" data-testid="campaign-id">{c.id}</p>
                </div>
                <div className="flex items-center gap-3">
                  {demoButton && role === "admin" && <RecordDeliveryButton slug={slug} campaignId={c.id} campaignName={c.name} running={c.status === "active"} />}
                  <CampaignStatusBadge campaign={c} />
                </div>
              </li>
            ))}
          </ul>
        )}
      </Card>
    </>
  );
}
