"use client";
// Local / test-mode payment: pick one of Stripe's test payment methods; the server confirms the
// PaymentIntent with it. Stands in for Stripe Elements when no publishable key is configured.
import { TEST_CARDS, type TestPaymentMethod } from "@/lib/stripe/test-cards";

export function TestCardPicker({ value, onChange, disabled }: { value: TestPaymentMethod; onChange: (pm: TestPaymentMethod) => void; disabled?: boolean }) {
  return (
    <fieldset disabled={disabled}>
      <legend className="text-sm font-medium">Test card</legend>
      <p className="mt-1 text-xs text-slate-500">Stripe test mode: no real card is charged.</p>
      <div className="mt-2 space-y-2">
        {TEST_CARDS.map((c) => (
          <label key={c.paymentMethod} className={`flex cursor-pointer items-center gap-3 rounded-lg border p-3 ${value === c.paymentMethod ? "border-indigo-600 bg-indigo-50" : "border-slate-300 bg-white hover:border-slate-400"}`}>
            <input type="radio" name="test-card" value={c.paymentMethod} checked={value === c.paymentMethod} onChange={() => onChange(c.paymentMethod)} className="h-4 w-4 accent-indigo-600" />
            <span className="min-w-0">
              <span className="block text-sm font-medium">{c.label}</span>
              <span className="block font-mono text-xs text-slate-500">{c.number}</span>
            </span>
          </label>
        ))}
      </div>
    </fieldset>
  );
}

export function AuthenticationPanel({ onResult, pending }: { onResult: (outcome: "succeed" | "fail") => void; pending: boolean }) {
  return (
    <div role="dialog" aria-labelledby="auth-title" className="rounded-xl border border-indigo-200 bg-indigo-50 p-4">
      <h3 id="auth-title" className="font-semibold">Your bank wants you to confirm this payment</h3>
      <p className="mt-1 text-sm text-slate-700">3-D Secure test: choose what the card holder does.</p>
      <div className="mt-3 flex flex-wrap gap-2">
        <button type="button" disabled={pending} onClick={() => onResult("succeed")} className="rounded-lg bg-indigo-600 px-4 py-2 text-sm font-medium text-white hover:bg-indigo-500 disabled:opacity-60">
          Complete authentication
        </button>
        <button type="button" disabled={pending} onClick={() => onResult("fail")} className="rounded-lg border border-slate-300 bg-white px-4 py-2 text-sm font-medium hover:bg-slate-50 disabled:opacity-60">
          Fail authentication
        </button>
      </div>
    </div>
  );
}
