// The ledger as a list that reads well on a phone (stacked) and a laptop (columns).
import type { CreditEntry } from "@/db/schema";
import type { EntryExpiry } from "@/lib/ledger/queries";
import { formatCredits, formatSignedCredits } from "@/lib/money/money";
import { ENTRY_KIND_LABELS, formatDateTime } from "./entry-labels";

export function LedgerList({ entries }: { entries: (CreditEntry & { expiry?: EntryExpiry | null })[] }) {
  if (entries.length === 0) {
    return <p className="py-6 text-center text-sm text-slate-500">No transactions yet.</p>;
  }
  return (
    <ul className="divide-y divide-slate-100">
      <li className="hidden grid-cols-[10rem_1fr_8rem_6rem_7rem] gap-3 pb-2 text-xs font-medium uppercase tracking-wide text-slate-500 sm:grid">
        <span>Date</span>
        <span>Description</span>
        <span>Type</span>
        <span className="text-right">Credits</span>
        <span className="text-right">Balance after</span>
      </li>
      {entries.map((e) => (
        <li
          key={e.id}
          data-testid="transaction-row"
          className="grid grid-cols-[1fr_auto] gap-x-3 gap-y-0.5 py-3 text-sm sm:grid-cols-[10rem_1fr_8rem_6rem_7rem] sm:items-center"
        >
          <span className="order-3 col-span-1 text-xs text-slate-500 sm:order-none sm:text-sm sm:text-slate-600">{formatDateTime(e.createdAt)}</span>
          <span className="order-1 min-w-0 break-words font-medium sm:order-none sm:font-normal">
            {e.description}
            {e.expiry && (
              <span className="block text-xs font-normal text-slate-500" data-testid="grant-expiry">
                {e.expiry.expiredAt
                  ? `Expired ${formatDateTime(e.expiry.expiredAt)}`
                  : `Expires ${formatDateTime(e.expiry.expiresAt)} · ${formatCredits(e.expiry.remaining)} left`}
              </span>
            )}
          </span>
          <span className="order-4 text-xs text-slate-500 sm:order-none sm:text-sm sm:text-slate-600">{ENTRY_KIND_LABELS[e.kind]}</span>
          <span className={`order-2 text-right font-semibold tabular-nums sm:order-none ${e.amount > 0 ? "text-emerald-700" : "text-red-700"}`}>
            {formatSignedCredits(e.amount)}
          </span>
          <span className="order-5 col-span-2 text-right text-xs tabular-nums text-slate-500 sm:order-none sm:col-span-1 sm:text-sm">
            <span className="sm:hidden">Balance </span>
            {formatCredits(e.balanceAfter)}
          </span>
        </li>
      ))}
    </ul>
  );
}
