import type { Metadata } from "next";
import { getDb } from "@/db/client";
import { orgPageAccess } from "@/lib/auth/org-page";
import { log } from "@/lib/log";
import { formatMoney } from "@/lib/money/money";
import { listInvoices } from "@/lib/stripe/billing";
import { paymentFormConfig } from "@/lib/stripe/payment-form";
import { checkoutModeFor } from "@/lib/checkout/config";
import { currentPlan, planCardsFor, planCreditsGranted, stripeCustomerOf } from "@/lib/subscriptions/queries";
import { trialUsed } from "@/lib/subscriptions/trial";
import { settlingPlanId } from "@/lib/subscriptions/rules";
import { PastDueBanner } from "@/components/plan/past-due-banner";
import { PlanManager } from "@/components/plan/plan-manager";
import { Card, PageTitle } from "@/components/ui";
import { formatDateTime } from "@/components/entry-labels";

export const metadata: Metadata = { title: "Plan" };

export default async function PlanPage({
  params,
  searchParams,
}: {
  params: Promise<{ slug: string }>;
  searchParams: Promise<{ checkout?: string | string[]; redirect_status?: string | string[] }>;
}) {
  const { slug } = await params;
  const query = await searchParams;
  const { checkout } = query;
  // CHECKOUT_MODE; dev/preview deployments also take ?checkout=hosted|embedded (lib/checkout/mode.ts).
  // Stripe Checkout (?checkout=complete) and Elements after a redirect (?redirect_status=…) send
  // the payer back here: the plan shows settling until active (settlingPlanId).
  const checkoutMode = checkoutModeFor(checkout);
  const { org, role } = await orgPageAccess(slug);
  const db = getDb();
  const [current, granted, customerId, hadTrial] = await Promise.all([currentPlan(db, org.id), planCreditsGranted(db, org.id), stripeCustomerOf(db, org.id), trialUsed(db, org.id)]);
  let invoices: { id: string; number: string | null; created: number; total: number; currency: string; status: string | null; url: string | null }[] | null = [];
  if (customerId) {
    try {
      invoices = (await listInvoices(customerId)).map((i) => ({ id: i.id!, number: i.number, created: i.created, total: i.total, currency: i.currency, status: i.status, url: i.hosted_invoice_url ?? null }));
    } catch (err) {
      log.warn({ err, orgId: org.id }, "could not list invoices");
      invoices = null;
    }
  }
  const isAdmin = role === "admin";
  const settlingId = settlingPlanId(current, query);
  return (
    <>
      <PageTitle title="Plan" subtitle="A plan adds credits every period; top-ups add more whenever you need them." />
      {current?.graceEndsAt && <PastDueBanner slug={slug} graceEndsAt={current.graceEndsAt} graceOver={current.graceOver} canFix={isAdmin} />}
      <PlanManager slug={slug} plans={planCardsFor(hadTrial)} current={current} canManage={isAdmin} payment={paymentFormConfig()} creditsGranted={granted} checkoutMode={checkoutMode} settlingId={settlingId} />
      <Card className="mt-4">
        <h2 className="mb-2 font-semibold">Invoices</h2>
        {invoices === null ? (
          <p className="text-sm text-amber-700">We couldn&apos;t load your invoices from Stripe just now. Reload to try again.</p>
        ) : invoices.length === 0 ? (
          <p className="text-sm text-slate-600">No invoices yet.</p>
        ) : (
          <ul data-testid="invoices" className="divide-y divide-slate-100 text-sm">
            {invoices.map((i) => (
              <li key={i.id} className="flex flex-wrap items-center justify-between gap-2 py-2">
                <span className="text-slate-700">{formatDateTime(new Date(i.created * 1000))}</span>
                <span className="tabular-nums">{formatMoney(i.total, i.currency)}</span>
                <span className="text-slate-600">{i.status}</span>
                {i.url ? (
                  <a href={i.url} target="_blank" rel="noreferrer" className="font-medium text-indigo-600 hover:text-indigo-500">
                    View invoice {i.number ?? ""}
                  </a>
                ) : (
                  <span className="text-slate-400">—</span>
                )}
              </li>
            ))}
          </ul>
        )}
      </Card>
    </>
  );
}
