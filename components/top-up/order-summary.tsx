import { formatCredits, formatMoney } from "@/lib/money/money";
import type { PackOption, Quote } from "./types";

export function OrderSummary({ pack, quote }: { pack: PackOption; quote: Quote | null }) {
  const q = quote && quote.packId === pack.id ? quote : null;
  const total = q ? q.total : pack.amount;
  return (
    <dl className="space-y-1 text-sm">
      <div className="flex justify-between">
        <dt className="text-slate-600">{pack.name} · {formatCredits(pack.credits)} credits</dt>
        <dd className="tabular-nums">{formatMoney(pack.amount, pack.currency)}</dd>
      </div>
      {q && q.discount > 0 && (
        <div data-testid="quote-discount" className="flex justify-between text-emerald-700">
          <dt>
            {q.couponCode}
            {q.couponDescription ? ` — ${q.couponDescription}` : ""}
          </dt>
          <dd className="whitespace-nowrap tabular-nums">−{formatMoney(q.discount, q.currency)}</dd>
        </div>
      )}
      <div className="flex justify-between border-t border-slate-200 pt-2 text-base font-semibold">
        <dt>Total</dt>
        <dd data-testid="quote-total" className="tabular-nums">{formatMoney(total, pack.currency)}</dd>
      </div>
    </dl>
  );
}
