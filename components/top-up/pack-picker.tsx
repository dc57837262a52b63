"use client";

import { formatCredits, formatMoney } from "@/lib/money/money";
import type { PackOption } from "./types";

export function PackPicker({ packs, value, onChange, disabled }: { packs: PackOption[]; value: string; onChange: (id: string) => void; disabled?: boolean }) {
  return (
    <fieldset disabled={disabled}>
      <legend className="text-sm font-medium">Credit pack</legend>
      <div className="mt-2 grid gap-3 sm:grid-cols-3">
        {packs.map((p) => {
          const checked = p.id === value;
          return (
            <label
              key={p.id}
              className={`relative flex cursor-pointer flex-col rounded-xl border p-4 transition has-[:focus-visible]:outline-2 has-[:focus-visible]:outline-offset-2 has-[:focus-visible]:outline-indigo-500 ${checked ? "border-indigo-600 bg-indigo-50 ring-2 ring-indigo-600" : "border-slate-300 bg-white hover:border-slate-400"}`}
            >
              <input type="radio" name="pack" value={p.id} checked={checked} onChange={() => onChange(p.id)} className="sr-only" />
              <span className="font-semibold">{p.name}</span>
              <span className="mt-1 text-2xl font-semibold tabular-nums">{formatCredits(p.credits)} <span className="text-sm font-normal text-slate-600">credits</span></span>
              <span className="mt-1 text-sm text-slate-700">{formatMoney(p.amount, p.currency)}</span>
              <span className="text-xs text-slate-500">{formatMoney(Math.round((p.amount * 100) / p.credits), p.currency)} per 100 credits</span>
            </label>
          );
        })}
      </div>
    </fieldset>
  );
}
