"use client";
// Shown while a renewal payment is failing: when the grace period ends (campaigns pause for
// billing then) and, for admins, a way to fix the card (the billing portal's card update).
import { useState } from "react";
import { openBillingPortalAction } from "@/lib/actions/plan-actions";
import { formatDateTime } from "../entry-labels";
import { Spinner } from "../ui";

export function PastDueBanner({ slug, graceEndsAt, graceOver, canFix }: { slug: string; graceEndsAt: string; graceOver: boolean; canFix: boolean }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  async function fix() {
    setBusy(true);
    setError(null);
    const r = await openBillingPortalAction({ orgSlug: slug, purpose: "fix_card" }).catch(() => null);
    if (r?.ok) window.location.assign(r.data.url);
    else {
      setError(r && !r.ok ? r.error : "We couldn't open the billing portal. Please try again.");
      setBusy(false);
    }
  }
  return (
    <div data-testid="past-due-banner" role="alert" className="mb-4 rounded-xl border border-red-200 bg-red-50 p-4 text-sm text-red-800">
      <p className="font-semibold">Your plan&apos;s last payment failed.</p>
      <p className="mt-1">
        {graceOver
          ? "The grace period has ended: your campaigns are paused until the invoice is paid."
          : `Campaigns keep running until ${formatDateTime(new Date(graceEndsAt))}; after that they pause until the invoice is paid.`}
      </p>
      {canFix ? (
        <button type="button" onClick={() => void fix()} disabled={busy} className="mt-3 inline-flex items-center gap-2 rounded-lg bg-red-700 px-4 py-2 font-medium text-white hover:bg-red-600 disabled:opacity-60">
          {busy && <Spinner />} Update card and pay
        </button>
      ) : (
        <p className="mt-2">Ask an organisation admin to update the card.</p>
      )}
      {error && <p className="mt-2">{error}</p>}
    </div>
  );
}
