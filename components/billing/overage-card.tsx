// The billing overview's overage card: whether deliveries past zero run as metered overage on
// this organisation's plan, and this period's usage, billed on the invoice at the period's end.
import type { OverageSummary } from "@/lib/usage/queries";
import { formatCredits, formatMoney } from "@/lib/money/money";
import { Card } from "../ui";

const date = (d: Date) => d.toLocaleDateString("en-US", { month: "short", day: "numeric", year: "numeric", timeZone: "UTC" });

export function OverageCard({ summary }: { summary: OverageSummary }) {
  const { state, unitAmount, currency } = summary;
  return (
    <div data-testid="overage-card">
    <Card className="mt-4">
      <div className="flex flex-wrap items-baseline justify-between gap-2">
        <h2 className="font-semibold">Overage</h2>
        <span data-testid="overage-state" className={`rounded-full px-2 py-0.5 text-xs font-medium ${state === "on" ? "bg-emerald-50 text-emerald-800" : "bg-slate-100 text-slate-700"}`}>
          {state === "on" ? "On" : state === "off" ? "Not on this plan" : "Paused"}
        </span>
      </div>
      <p className="mt-1 text-sm text-slate-600">
        {state === "on" && unitAmount !== null && `On ${summary.planName}, campaigns keep running when credits run out: each credit past zero costs ${formatMoney(unitAmount, currency)} on your next invoice.`}
        {state === "off" && `${summary.planName} has no overage: campaigns pause when credits run out.`}
        {state === "paused" && `Campaigns pause when credits run out: ${summary.reason}.`}
      </p>
      {(summary.credits > 0 || state === "on") && (
        <p className="mt-2 text-sm">
          Not yet invoiced this period:{" "}
          <span data-testid="overage-usage" className="font-semibold tabular-nums">
            {formatCredits(summary.credits)} credits · {formatMoney(summary.amount, currency)}
          </span>
          {summary.periodEnd && <span className="text-slate-500"> — billed after {date(summary.periodEnd)}</span>}
          {summary.credits > summary.reportedCredits && <span className="text-slate-500"> ({formatCredits(summary.credits - summary.reportedCredits)} waiting to be reported)</span>}
        </p>
      )}
    </Card>
    </div>
  );
}
