import type { Metadata } from "next";
import Link from "next/link";
import { getDb } from "@/db/client";
import { requireStaffPage } from "@/lib/auth/staff-page";
import { latestRuns, type Finding } from "@/lib/reconcile/reconcile";
import { runReconciliationAction } from "@/lib/actions/staff-actions";
import { formatDateTime } from "@/components/entry-labels";
import { Badge, Card, PageTitle } from "@/components/ui";
import { StaffForm } from "@/components/staff/staff-form";

export const metadata: Metadata = { title: "Reconciliation · Staff" };

export default async function StaffReconciliation() {
  await requireStaffPage();
  const runs = await latestRuns(getDb(), 10);
  const [latest, ...older] = runs;
  const findings = (latest?.findings ?? []) as Finding[];
  return (
    <>
      <PageTitle title="Reconciliation" subtitle="Succeeded PaymentIntents and paid subscription invoices at Stripe against purchases and ledger grants, and every balance against its ledger. Missing grants are fixed through the normal paths (settlement, applyPaidInvoice). Runs nightly." />
      <Card className="mb-4">
        <StaffForm action={runReconciliationAction} submitLabel="Run now" testId="reconcile-form" successText="{findings} difference(s), {fixed} fixed.">
          <label className="block text-sm">
            <span className="font-medium">Mode</span>
            <select name="mode" defaultValue="fix" className="ml-2 rounded-lg border border-slate-300 px-2 py-1 text-sm">
              <option value="fix">Report and fix missing grants (through the normal paths)</option>
              <option value="report">Report only</option>
            </select>
          </label>
        </StaffForm>
      </Card>
      <Card>
        <h2 className="mb-2 font-semibold">Latest run</h2>
        {!latest ? (
          <p className="text-sm text-slate-500">No run yet.</p>
        ) : (
          <>
            <p className="text-sm">
              {formatDateTime(latest.startedAt)} · {latest.checkedPaymentIntents} succeeded PaymentIntents, {latest.checkedInvoices} paid invoices, {latest.checkedOrganisations} organisations ·{" "}
              {latest.error ? <Badge tone="red">failed: {latest.error}</Badge> : `${findings.length} differences, ${latest.fixed} fixed`}
            </p>
            {findings.length === 0 && !latest.error ? (
              <p className="mt-2 text-sm text-emerald-700" data-testid="reconcile-clean">Stripe, purchases and ledger agree.</p>
            ) : (
              <ul className="mt-2 divide-y divide-slate-100" data-testid="reconcile-findings">
                {findings.map((f, i) => (
                  <li key={i} className="py-2 text-sm">
                    <div className="flex flex-wrap justify-between gap-2">
                      <span className="font-medium">{f.kind.replaceAll("_", " ")}{f.orgSlug && <> · <Link href={`/staff/orgs/${f.orgSlug}`} className="text-indigo-600">{f.orgSlug}</Link></>}</span>
                      {f.fixed ? <Badge tone="green">fixed</Badge> : <Badge tone={f.kind === "missing_grant" || f.kind === "missing_invoice_grant" ? "amber" : "red"}>needs a person</Badge>}
                    </div>
                    <p className="text-xs text-slate-600">{f.cause}{f.fix ? ` → ${f.fix}` : ""}</p>
                    <p className="break-all text-xs text-slate-500">{f.purchaseId ? `purchase ${f.purchaseId}` : ""} {f.paymentIntentId ?? ""} {f.invoiceId ? `invoice ${f.invoiceId}` : ""}</p>
                  </li>
                ))}
              </ul>
            )}
          </>
        )}
      </Card>
      {older.length > 0 && (
        <Card className="mt-4">
          <h2 className="mb-2 font-semibold">Earlier runs</h2>
          <ul className="text-sm">
            {older.map((r) => (
              <li key={r.id}>{formatDateTime(r.startedAt)} · {(r.findings as unknown[]).length} differences, {r.fixed} fixed{r.error ? ` · failed: ${r.error}` : ""}</li>
            ))}
          </ul>
        </Card>
      )}
    </>
  );
}
