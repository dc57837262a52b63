"use client";
// Shows a payment settling: polls the purchase (which verifies the PaymentIntent with Stripe and
// finalises it if the webhook has not yet) until it is final, then shows the outcome and
// refreshes the page so the header balance is current. It only says "nothing was charged" when
// Stripe has said so (failed or canceled); while it cannot reach Stripe or the server it says it
// is still checking, and a payment that does not match its purchase is shown as under review.
import { useEffect, useRef, useState } from "react";
import Link from "next/link";
import { useRouter } from "next/navigation";
import { authenticateTestPaymentAction, purchaseStatusAction } from "@/lib/actions/topup-actions";
import type { PurchaseStatusView } from "@/lib/topups/status";
import { formatCredits, formatMoney } from "@/lib/money/money";
import { ButtonLink, Card, Spinner } from "../ui";
import { AuthenticationPanel } from "./test-card-payment";

const GIVE_UP_AFTER_MS = 90_000;
const STILL_CHECKING = "We couldn't check with Stripe just now — still trying. Don't pay again until this page says how it ended.";

export function SettlingStatus({ slug, initial, testCards }: { slug: string; initial: PurchaseStatusView; testCards: boolean }) {
  const router = useRouter();
  const [view, setView] = useState(initial);
  const [error, setError] = useState<string | null>(null);
  const [slow, setSlow] = useState(false);
  const [authPending, setAuthPending] = useState(false);
  // When polling began; set in the effect (render stays pure).
  const started = useRef<number | null>(null);

  // Layouts persist across client navigations: once final, refresh so the header balance and
  // other server-rendered parts show the new state.
  const final = view.status !== "pending";
  useEffect(() => {
    if (final) router.refresh();
  }, [final, router]);

  useEffect(() => {
    if (view.status !== "pending") return;
    started.current ??= Date.now();
    let cancelled = false;
    let timer: ReturnType<typeof setTimeout>;
    const poll = async (delay: number) => {
      try {
        const r = await purchaseStatusAction({ orgSlug: slug, purchaseId: view.id });
        if (cancelled) return;
        if (r.ok) {
          setError(r.data.verified ? null : STILL_CHECKING);
          setView(r.data);
          if (r.data.status !== "pending") return;
        } else setError(r.code === "internal" ? STILL_CHECKING : r.error);
      } catch {
        if (!cancelled) setError(STILL_CHECKING);
      }
      if (Date.now() - (started.current ?? Date.now()) > GIVE_UP_AFTER_MS) {
        setSlow(true);
        return;
      }
      timer = setTimeout(() => void poll(Math.min(delay * 1.5, 3000)), delay);
    };
    timer = setTimeout(() => void poll(1000), 300);
    return () => {
      cancelled = true;
      clearTimeout(timer);
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [view.id, view.status === "pending"]);

  async function authenticate(outcome: "succeed" | "fail") {
    setAuthPending(true);
    try {
      const r = await authenticateTestPaymentAction({ orgSlug: slug, purchaseId: view.id, outcome });
      if (!r.ok) setError(r.code === "internal" ? STILL_CHECKING : r.error);
      const s = await purchaseStatusAction({ orgSlug: slug, purchaseId: view.id });
      if (s.ok) setView(s.data);
      router.refresh();
    } finally {
      setAuthPending(false);
    }
  }

  const amount = formatMoney(view.amount, view.currency);
  return (
    <Card>
      <div data-testid="settling-status" data-status={view.status} role="status" aria-live="polite">
        {view.status === "pending" && (
          <div className="space-y-3">
            <div className="flex items-center gap-3">
              <Spinner className="h-6 w-6 text-indigo-600" />
              <div>
                <p className="font-semibold">{view.requiresAction ? "Waiting for you to confirm the payment" : "Confirming your payment with Stripe…"}</p>
                <p className="text-sm text-slate-600">
                  {amount} for {formatCredits(view.credits)} credits. This usually takes a few seconds.
                </p>
              </div>
            </div>
            <div className="h-1.5 overflow-hidden rounded-full bg-slate-100">
              <div className="h-full w-1/3 animate-pulse rounded-full bg-indigo-500" />
            </div>
            {view.requiresAction && testCards && <AuthenticationPanel onResult={(o) => void authenticate(o)} pending={authPending} />}
            {slow && (
              <p className="text-sm text-slate-600">
                Still settling. We&apos;ll finish this in the background as soon as Stripe confirms — you can leave this page; the credits will appear in your transactions.
              </p>
            )}
          </div>
        )}
        {view.status === "succeeded" && (
          <div className="space-y-2">
            <p className="text-lg font-semibold text-emerald-700">Payment received — {formatCredits(view.credits)} credits added</p>
            <p className="text-slate-700">
              You paid {amount}
              {view.discount > 0 ? ` (saved ${formatMoney(view.discount, view.currency)})` : ""}. New balance:{" "}
              <strong className="tabular-nums">{formatCredits(view.balance)} credits</strong>.
            </p>
            <p className="text-slate-700">
              {view.activeCampaigns} campaign{view.activeCampaigns === 1 ? "" : "s"} running
              {view.pausedForCredits > 0 ? `; ${view.pausedForCredits} still paused — their next delivery needs more credits.` : "."}
            </p>
            <div className="flex flex-wrap gap-2 pt-2">
              <ButtonLink href={`/orgs/${slug}/campaigns`}>View campaigns</ButtonLink>
              <ButtonLink href={`/orgs/${slug}/billing/transactions`} variant="secondary">Transactions</ButtonLink>
            </div>
          </div>
        )}
        {(view.status === "failed" || view.status === "canceled") && (
          <div className="space-y-2">
            <p className="text-lg font-semibold text-red-700">{view.status === "failed" ? "The payment didn't go through" : "The payment was cancelled"}</p>
            <p className="text-slate-700">{view.failureMessage ?? "No payment was taken."} Nothing was charged and your balance is unchanged.</p>
            <div className="pt-2">
              <ButtonLink href={`/orgs/${slug}/billing/top-up`}>Try again</ButtonLink>
            </div>
          </div>
        )}
        {view.status === "needs_review" && (
          <div className="space-y-2">
            <p className="text-lg font-semibold text-amber-700">Your payment is being reviewed</p>
            <p className="text-slate-700">
              Stripe reported a payment for this top-up that doesn&apos;t match its amount, so we haven&apos;t added the credits
              automatically. Our team has been alerted and will sort it out — please don&apos;t pay again.
            </p>
            <div className="pt-2">
              <ButtonLink href={`/orgs/${slug}/billing`} variant="secondary">Back to billing</ButtonLink>
            </div>
          </div>
        )}
        {error && <p className="mt-3 text-sm text-amber-700">{error}</p>}
      </div>
      {view.status === "pending" && (
        <p className="mt-4 text-xs text-slate-500">
          <Link href={`/orgs/${slug}/billing`} className="underline">Back to billing</Link>
        </p>
      )}
    </Card>
  );
}
