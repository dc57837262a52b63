"use client";
// Admins' balance care: the low-balance threshold, the saved card (a SetupIntent: confirmed with
// Stripe Elements when a publishable key is configured — components/settings/card-setup-elements.tsx
// — or on the server with a test card in local / test mode) and auto-recharge (threshold + pack).
import { useRef, useState } from "react";
import { useRouter } from "next/navigation";
import { saveCardAction, setAutoRechargeAction, setLowBalanceThresholdAction } from "@/lib/actions/delivery-actions";
import { SETUP_TEST_CARDS, type SetupTestCard } from "@/lib/stripe/setup-test-cards";
import { Spinner } from "../ui";
import { ElementsCardSetup } from "./card-setup-elements";

const input = "mt-1 w-40 rounded-lg border border-slate-300 px-3 py-2 text-sm tabular-nums";
const primary = "inline-flex items-center gap-2 rounded-lg bg-indigo-600 px-4 py-2 text-sm font-medium text-white hover:bg-indigo-500 disabled:opacity-60";

function parseCredits(s: string): number | null {
  return /^\d+$/.test(s.trim()) ? Number(s.trim()) : null;
}

export function LowBalanceForm({ slug, threshold }: { slug: string; threshold: number | null }) {
  const router = useRouter();
  const [value, setValue] = useState(threshold === null ? "" : String(threshold));
  const [busy, setBusy] = useState(false);
  const [msg, setMsg] = useState<{ ok: boolean; text: string } | null>(null);
  async function save(e: React.FormEvent) {
    e.preventDefault();
    const n = value.trim() === "" ? null : parseCredits(value);
    if (value.trim() !== "" && n === null) return setMsg({ ok: false, text: "Enter a whole number of credits, or leave it empty to turn the warning off." });
    setBusy(true);
    setMsg(null);
    try {
      const r = await setLowBalanceThresholdAction({ orgSlug: slug, threshold: n });
      setMsg(r.ok ? { ok: true, text: n === null ? "Low-balance warning turned off." : "Saved." } : { ok: false, text: r.fieldErrors?.threshold?.[0] ?? r.error });
      router.refresh();
    } catch {
      // No answer (e.g. the network dropped). No refresh either: offline, Next.js would fall back
      // to a full page load and lose the form and this message.
      setMsg({ ok: false, text: "We couldn't save the warning: the server didn't answer. Please try again." });
    } finally {
      setBusy(false);
    }
  }
  return (
    <form onSubmit={save} className="flex flex-wrap items-end gap-3">
      <label>
        <span className="block text-sm font-medium">Warn below (credits)</span>
        <input value={value} onChange={(e) => setValue(e.target.value)} inputMode="numeric" placeholder="off" data-testid="low-balance-threshold" className={input} />
      </label>
      <button type="submit" disabled={busy} data-testid="save-low-balance" className={primary}>
        {busy && <Spinner />} Save
      </button>
      {msg && <p role={msg.ok ? "status" : "alert"} className={`w-full text-sm ${msg.ok ? "text-emerald-700" : "text-red-700"}`}>{msg.text}</p>}
    </form>
  );
}

export type AutoRechargeState = {
  enabled: boolean;
  threshold: number | null;
  packId: string | null;
  card: { brand: string | null; last4: string | null } | null;
  disabledReason: string | null;
  /** The newest attempt to save a card failed (after the current card was saved): why. */
  lastSetupFailure: string | null;
};

export type CardFormConfig = { kind: "elements"; publishableKey: string } | { kind: "test-cards" };

export function AutoRechargeForm({
  slug,
  state,
  packs,
  payment,
  returnedSetupIntentId = null,
}: {
  slug: string;
  state: AutoRechargeState;
  packs: { id: string; label: string }[];
  payment: CardFormConfig;
  returnedSetupIntentId?: string | null;
}) {
  const router = useRouter();
  const [card, setCard] = useState<SetupTestCard>("pm_card_visa");
  const [enabled, setEnabled] = useState(state.enabled);
  const [threshold, setThreshold] = useState(state.threshold === null ? "" : String(state.threshold));
  const [packId, setPackId] = useState(state.packId ?? packs[0]?.id ?? "");
  const [busy, setBusy] = useState<null | "card" | "save">(null);
  const [msg, setMsg] = useState<{ ok: boolean; text: string } | null>(null);
  const requestId = useRef(crypto.randomUUID());

  async function saveCard() {
    setBusy("card");
    setMsg(null);
    try {
      const r = await saveCardAction({ orgSlug: slug, requestId: requestId.current, paymentMethod: card });
      setMsg(r.ok ? { ok: true, text: `Card saved (${r.data.cardBrand ?? "card"} •••• ${r.data.cardLast4 ?? ""}).` } : { ok: false, text: r.error });
    } catch {
      setMsg({ ok: false, text: "We couldn't reach the server. Reload the page to see whether the card was saved." });
    } finally {
      requestId.current = crypto.randomUUID();
      setBusy(null);
      router.refresh();
    }
  }

  async function save(e: React.FormEvent) {
    e.preventDefault();
    const n = parseCredits(threshold);
    if (n === null || n < 1) return setMsg({ ok: false, text: "Enter a whole number of credits for the threshold." });
    setBusy("save");
    setMsg(null);
    try {
      const r = await setAutoRechargeAction({ orgSlug: slug, enabled, threshold: n, packId });
      setMsg(r.ok ? { ok: true, text: r.data.enabled ? "Auto-recharge is on." : "Auto-recharge is off." } : { ok: false, text: r.error });
      router.refresh();
    } catch {
      // No answer. No refresh either: offline, Next.js falls back to a full page load, which would
      // replace the form, what was typed and this message with the browser's offline page.
      setMsg({ ok: false, text: "We couldn't reach the server. Please try again." });
    } finally {
      setBusy(null);
    }
  }

  return (
    <div className="space-y-5">
      {state.disabledReason && (
        <p role="alert" data-testid="auto-recharge-disabled" className="rounded-lg border border-red-200 bg-red-50 p-3 text-sm text-red-800">{state.disabledReason}</p>
      )}
      <div>
        <p className="text-sm font-medium">Saved card</p>
        <p className="text-sm text-slate-600" data-testid="saved-card">
          {state.card ? `${state.card.brand ?? "Card"} •••• ${state.card.last4 ?? "????"}` : "No card saved."}
        </p>
        {state.lastSetupFailure && (
          <p role="alert" data-testid="card-setup-failed" className="mt-1 text-sm text-red-700">The last attempt to save a card failed: {state.lastSetupFailure}</p>
        )}
        {payment.kind === "elements" ? (
          <ElementsCardSetup slug={slug} publishableKey={payment.publishableKey} hasCard={state.card !== null} returnedSetupIntentId={returnedSetupIntentId} />
        ) : (
          <fieldset className="mt-2" disabled={busy !== null}>
            <legend className="text-xs text-slate-500">Stripe test mode: choose a test card to save for off-session payments.</legend>
            <div className="mt-1 flex flex-wrap gap-2">
              {SETUP_TEST_CARDS.map((c) => (
                <label key={c.paymentMethod} className={`flex cursor-pointer items-center gap-2 rounded-lg border px-3 py-2 text-sm ${card === c.paymentMethod ? "border-indigo-600 bg-indigo-50" : "border-slate-300"}`}>
                  <input type="radio" name="setup-card" checked={card === c.paymentMethod} onChange={() => setCard(c.paymentMethod)} className="accent-indigo-600" />
                  <span>{c.label}</span>
                </label>
              ))}
            </div>
            <button type="button" onClick={saveCard} data-testid="save-card" className="mt-2 inline-flex items-center gap-2 rounded-lg border border-slate-300 bg-white px-3 py-1.5 text-sm font-medium hover:bg-slate-50">
              {busy === "card" && <Spinner />} {state.card ? "Replace card" : "Save card"}
            </button>
          </fieldset>
        )}
      </div>
      <form onSubmit={save} className="flex flex-wrap items-end gap-3">
        <label className="flex items-center gap-2 text-sm font-medium">
          <input type="checkbox" checked={enabled} onChange={(e) => setEnabled(e.target.checked)} data-testid="auto-recharge-enabled" className="h-4 w-4 accent-indigo-600" />
          Buy a pack automatically
        </label>
        <label>
          <span className="block text-sm font-medium">when the balance falls below</span>
          <input value={threshold} onChange={(e) => setThreshold(e.target.value)} inputMode="numeric" data-testid="auto-recharge-threshold" className={input} />
        </label>
        <label>
          <span className="block text-sm font-medium">Pack</span>
          <select value={packId} onChange={(e) => setPackId(e.target.value)} data-testid="auto-recharge-pack" className="mt-1 rounded-lg border border-slate-300 px-3 py-2 text-sm">
            {packs.map((p) => (
              <option key={p.id} value={p.id}>{p.label}</option>
            ))}
          </select>
        </label>
        <button type="submit" disabled={busy !== null} data-testid="save-auto-recharge" className={primary}>
          {busy === "save" && <Spinner />} Save
        </button>
      </form>
      {msg && <p role={msg.ok ? "status" : "alert"} className={`text-sm ${msg.ok ? "text-emerald-700" : "text-red-700"}`}>{msg.text}</p>}
    </div>
  );
}
