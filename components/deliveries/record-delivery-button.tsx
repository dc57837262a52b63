"use client";
// Demo button on the campaigns page: records one delivery of a running campaign through the same
// path as the delivery API (keyed by a request id per click, so a double submit records one).
// The page keeps it mounted for campaigns that are not running (`running` false: no button), so
// the answer to the last click stays visible after the refresh that shows the campaign paused.
import { useState } from "react";
import { useRouter } from "next/navigation";
import { recordDemoDeliveryAction } from "@/lib/actions/delivery-actions";
import { formatCredits } from "@/lib/money/money";
import { Spinner } from "../ui";

export function RecordDeliveryButton({ slug, campaignId, campaignName, running }: { slug: string; campaignId: string; campaignName: string; running: boolean }) {
  const router = useRouter();
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<{ tone: "ok" | "error"; text: string } | null>(null);

  async function record() {
    setBusy(true);
    setMessage(null);
    try {
      const r = await recordDemoDeliveryAction({ orgSlug: slug, campaignId, requestId: crypto.randomUUID() });
      if (r.ok && r.data.overageCredits > 0) {
        const fromBalance = r.data.credits - r.data.overageCredits;
        setMessage({ tone: "ok", text: `Delivered: −${formatCredits(fromBalance)} credits, ${formatCredits(r.data.overageCredits)} as overage (billed on the next invoice), ${formatCredits(r.data.balanceAfter)} left.` });
      } else if (r.ok) setMessage({ tone: "ok", text: `Delivered: −${formatCredits(r.data.credits)} credits, ${formatCredits(r.data.balanceAfter)} left.` });
      else setMessage({ tone: "error", text: r.error });
      router.refresh();
    } catch {
      setMessage({ tone: "error", text: "The delivery could not be recorded. Try again." });
    } finally {
      setBusy(false);
    }
  }

  return (
    <div className="flex flex-col items-end gap-1">
      {running && (
        <button
          type="button"
          onClick={record}
          disabled={busy}
          data-testid="record-delivery"
          aria-label={`Record a delivery for ${campaignName}`}
          className="inline-flex items-center gap-2 rounded-lg border border-slate-300 bg-white px-3 py-1.5 text-sm font-medium hover:bg-slate-50 disabled:opacity-60"
        >
          {busy && <Spinner />} Record a delivery
        </button>
      )}
      {message && (
        <p role={message.tone === "error" ? "alert" : "status"} data-testid="delivery-message" className={`text-xs ${message.tone === "error" ? "text-red-700" : "text-emerald-700"}`}>
          {message.text}
        </p>
      )}
    </div>
  );
}
