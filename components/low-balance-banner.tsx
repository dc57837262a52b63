// Shown on every organisation page while the balance is below the organisation's low-balance
// threshold (the notification itself is recorded once per crossing: lib/balance-care).
import { formatCredits } from "@/lib/money/money";
import { forecastSentence } from "@/lib/balance-care/rules";
import { ButtonLink } from "./ui";

export function LowBalanceBanner({ slug, balance, threshold, forecastDays, canTopUp }: { slug: string; balance: number; threshold: number | null; forecastDays: number | null; canTopUp: boolean }) {
  if (threshold === null || balance >= threshold) return null;
  return (
    <div data-testid="low-balance-banner" role="status" className="border-b border-amber-300 bg-amber-50">
      <div className="mx-auto flex max-w-5xl flex-wrap items-center justify-between gap-3 px-4 py-2">
        <p className="text-sm text-amber-900">
          <strong className="font-semibold">Low balance:</strong> {formatCredits(balance)} credits, below your threshold of {formatCredits(threshold)}. {forecastSentence(forecastDays, balance)}
        </p>
        {canTopUp && <ButtonLink href={`/orgs/${slug}/billing/top-up`}>Top up credits</ButtonLink>}
      </div>
    </div>
  );
}
