"use client";
// The top-up checkout: choose a pack, apply a coupon (admins) and see the discount before
// paying, then pay with Elements (real Stripe) or a test card (local emulator / test mode) — or,
// with the hosted checkout (CHECKOUT_MODE=hosted), on Stripe Checkout's page: the same purchase,
// then a redirect to the session's url; Stripe sends the payer back to the settling page.
// Admins paying on the embedded form may also save the card for auto-recharge
// (setup_future_usage; lib/balance-care/card-setup.ts records it when the payment succeeds).
import { useRef, useState } from "react";
import { useRouter } from "next/navigation";
import {
  authenticateTestPaymentAction,
  cancelTopUpAction,
  confirmTestCardAction,
  quoteTopUpAction,
  startTopUpAction,
  startTopUpCheckoutAction,
} from "@/lib/actions/topup-actions";
import type { TestPaymentMethod } from "@/lib/stripe/test-cards";
import { formatMoney } from "@/lib/money/money";
import { Card, ErrorMessage, Spinner } from "../ui";
import { PackPicker } from "./pack-picker";
import { OrderSummary } from "./order-summary";
import { AuthenticationPanel, TestCardPicker } from "./test-card-payment";
import { ElementsPayment } from "./elements-payment";
import type { Checkout, PackOption, Quote } from "./types";

type PaymentConfig = { kind: "elements"; publishableKey: string } | { kind: "test-cards" };
type Busy = null | "quote" | "start" | "pay" | "auth" | "cancel";

export function TopUpForm({
  slug,
  packs,
  canApplyCoupons,
  payment,
  checkoutMode = "embedded",
}: {
  slug: string;
  packs: PackOption[];
  canApplyCoupons: boolean;
  payment: PaymentConfig;
  checkoutMode?: "embedded" | "hosted";
}) {
  const router = useRouter();
  const [packId, setPackId] = useState(packs[0]?.id ?? "");
  const [couponInput, setCouponInput] = useState("");
  const [quote, setQuote] = useState<Quote | null>(null);
  const [couponError, setCouponError] = useState<string | null>(null);
  const [step, setStep] = useState<"choose" | "pay">("choose");
  const [checkout, setCheckout] = useState<Checkout | null>(null);
  const [card, setCard] = useState<TestPaymentMethod>("pm_card_visa");
  const [paymentError, setPaymentError] = useState<string | null>(null);
  const [formError, setFormError] = useState<string | null>(null);
  const [needsAuth, setNeedsAuth] = useState(false);
  const [busy, setBusy] = useState<Busy>(null);
  // Admins, embedded checkout: save the paid card for auto-recharge (setup_future_usage).
  const [saveCard, setSaveCard] = useState(false);
  // One id per checkout attempt: a double submit reuses it (one purchase); a new attempt after a
  // decline or cancel gets a new one.
  const requestId = useRef<string>(crypto.randomUUID());
  const newAttempt = () => {
    requestId.current = crypto.randomUUID();
    setCheckout(null);
    // A 3-D Secure check belongs to the payment just cleared: close it, so the card picker and
    // Pay / Cancel are back for a new payment (its message stays).
    setNeedsAuth(false);
  };

  const pack = packs.find((p) => p.id === packId);
  if (!pack) return <Card><p className="text-sm text-slate-600">No credit packs are available right now.</p></Card>;
  const settlingUrl = (purchaseId: string) => `/orgs/${slug}/billing/purchases/${purchaseId}`;

  async function applyCoupon(forPack = packId): Promise<Quote | null | "error"> {
    const code = couponInput.trim();
    if (!code) {
      setQuote(null);
      setCouponError(null);
      return null;
    }
    setBusy("quote");
    setCouponError(null);
    try {
      const r = await quoteTopUpAction({ orgSlug: slug, packId: forPack, couponCode: code });
      if (!r.ok) {
        setQuote(null);
        setCouponError(r.fieldErrors?.couponCode?.[0] ?? r.error);
        return "error";
      }
      setQuote(r.data);
      return r.data;
    } catch {
      setCouponError("We couldn't check that code. Please try again.");
      return "error";
    } finally {
      setBusy(null);
    }
  }

  async function changePack(id: string) {
    setPackId(id);
    if (quote) await applyCoupon(id);
  }

  async function start(): Promise<Checkout | null> {
    setFormError(null);
    setCouponError(null);
    let couponCode: string | null = null;
    if (canApplyCoupons && couponInput.trim()) {
      const q = quote && quote.packId === packId && quote.couponCode === couponInput.trim().toUpperCase() ? quote : await applyCoupon();
      if (q === "error") return null;
      couponCode = q?.couponCode ?? null;
    }
    setBusy("start");
    try {
      const r = await startTopUpAction({ orgSlug: slug, packId, couponCode, requestId: requestId.current, saveCard: canApplyCoupons && checkoutMode !== "hosted" && saveCard });
      if (!r.ok) {
        if (r.code === "coupon_invalid" || r.code === "rate_limited") setCouponError(r.error);
        else setFormError(r.error);
        if (r.code === "conflict") newAttempt();
        return null;
      }
      setCheckout(r.data);
      return r.data;
    } catch {
      setFormError("We couldn't start the payment. Nothing was charged; please try again.");
      return null;
    } finally {
      setBusy(null);
    }
  }

  async function continueToPayment() {
    if (checkoutMode === "hosted") return payOnStripeCheckout();
    const c = await start();
    if (c) setStep("pay");
  }

  /** Hosted checkout: the same purchase (same request id on a double click), paid on Stripe's page. */
  async function payOnStripeCheckout() {
    setFormError(null);
    let couponCode: string | null = null;
    if (canApplyCoupons && couponInput.trim()) {
      const q = quote && quote.packId === packId && quote.couponCode === couponInput.trim().toUpperCase() ? quote : await applyCoupon();
      if (q === "error") return;
      couponCode = q?.couponCode ?? null;
    }
    setBusy("start");
    try {
      const r = await startTopUpCheckoutAction({ orgSlug: slug, packId, couponCode, requestId: requestId.current });
      if (!r.ok) {
        if (r.code === "coupon_invalid" || r.code === "rate_limited") setCouponError(r.error);
        else setFormError(r.error);
        if (r.code === "conflict") newAttempt();
        setBusy(null);
        return;
      }
      window.location.assign(r.data.url); // busy stays on while the browser leaves
    } catch {
      setFormError("We couldn't start the payment. Nothing was charged; please try again.");
      setBusy(null);
    }
  }

  function handleOutcome(purchaseId: string, r: Awaited<ReturnType<typeof confirmTestCardAction>>) {
    if (!r.ok) {
      // Not a decline: we cannot tell whether the payment went through; the settling page of
      // this purchase asks Stripe.
      if (r.code === "internal" || r.code === "payment_provider_unavailable") {
        router.push(settlingUrl(purchaseId));
        return;
      }
      setPaymentError(r.error);
      if (r.code === "conflict") newAttempt();
      return;
    }
    if (r.data.outcome === "processing") {
      router.push(settlingUrl(purchaseId));
      return;
    }
    if (r.data.outcome === "requires_action") {
      setNeedsAuth(true);
      return;
    }
    setNeedsAuth(false);
    setPaymentError(r.data.message);
    newAttempt(); // that purchase is closed; the next try is a new one
  }

  /** Elements: a refused payment closes its purchase; prepare a new one for the next try. */
  async function retryAfterDecline(message: string) {
    setPaymentError(message);
    newAttempt();
    await start();
  }

  async function payWithTestCard() {
    setPaymentError(null);
    const c = checkout ?? (await start());
    if (!c) return;
    setBusy("pay");
    try {
      handleOutcome(c.purchaseId, await confirmTestCardAction({ orgSlug: slug, purchaseId: c.purchaseId, paymentMethod: card }));
    } catch {
      // The request may have reached Stripe: find out on the settling page, do not guess.
      router.push(settlingUrl(c.purchaseId));
    } finally {
      setBusy(null);
    }
  }

  async function authenticate(outcome: "succeed" | "fail") {
    if (!checkout) return;
    setBusy("auth");
    try {
      handleOutcome(checkout.purchaseId, await authenticateTestPaymentAction({ orgSlug: slug, purchaseId: checkout.purchaseId, outcome }));
    } catch {
      router.push(settlingUrl(checkout.purchaseId));
    } finally {
      setBusy(null);
    }
  }

  async function cancel() {
    setBusy("cancel");
    try {
      if (checkout) await cancelTopUpAction({ orgSlug: slug, purchaseId: checkout.purchaseId });
    } finally {
      setBusy(null);
      newAttempt();
      setNeedsAuth(false);
      setPaymentError(null);
      setStep("choose");
    }
  }

  const total = quote && quote.packId === packId ? quote.total : pack.amount;
  // On the payment step, why a new payment (after a decline) could not start: shown where the
  // person is, since the coupon field and its message are on the first step.
  const startError = formError ?? couponError;
  const amountLabel = formatMoney(checkout?.amount ?? total, pack.currency);

  return (
    <div className="grid gap-4 lg:grid-cols-[1fr_20rem]">
      <Card>
        {step === "choose" ? (
          <div className="space-y-6">
            <PackPicker packs={packs} value={packId} onChange={(id) => void changePack(id)} disabled={busy !== null} />
            {canApplyCoupons ? (
              <div>
                <label htmlFor="coupon" className="block text-sm font-medium">Coupon code</label>
                <div className="mt-1 flex gap-2">
                  <input
                    id="coupon"
                    value={couponInput}
                    onChange={(e) => {
                      setCouponInput(e.target.value);
                      setCouponError(null);
                    }}
                    onKeyDown={(e) => {
                      if (e.key === "Enter") {
                        e.preventDefault();
                        void applyCoupon();
                      }
                    }}
                    autoComplete="off"
                    autoCapitalize="characters"
                    placeholder="e.g. WELCOME20"
                    aria-invalid={couponError ? true : undefined}
                    aria-describedby="coupon-feedback"
                    className="block w-full min-w-0 rounded-lg border border-slate-300 bg-white px-3 py-2 text-base uppercase placeholder:normal-case focus:border-indigo-500 focus:outline-none focus:ring-2 focus:ring-indigo-200"
                  />
                  <button
                    type="button"
                    onClick={() => void applyCoupon()}
                    disabled={busy !== null || !couponInput.trim()}
                    title={!couponInput.trim() ? "Enter a code first" : undefined}
                    className="inline-flex items-center gap-2 rounded-lg border border-slate-300 bg-white px-4 py-2 text-sm font-medium hover:bg-slate-50 disabled:opacity-60"
                  >
                    {busy === "quote" && <Spinner />}
                    Apply
                  </button>
                </div>
                <div id="coupon-feedback" aria-live="polite">
                  {couponError && (
                    <p data-testid="coupon-error" className="mt-2 text-sm text-red-700">{couponError}</p>
                  )}
                  {!couponError && quote?.couponCode && quote.packId === packId && (
                    <p className="mt-2 text-sm text-emerald-700">
                      {quote.couponCode} applied: you save {formatMoney(quote.discount, quote.currency)}.
                    </p>
                  )}
                </div>
              </div>
            ) : (
              <p className="text-sm text-slate-600">Coupons can be applied by an organisation admin.</p>
            )}
            {canApplyCoupons && checkoutMode !== "hosted" && (
              <label className="flex items-start gap-2 text-sm">
                <input type="checkbox" checked={saveCard} onChange={(e) => setSaveCard(e.target.checked)} disabled={busy !== null} data-testid="save-card-for-auto-recharge" className="mt-0.5 h-4 w-4 accent-indigo-600" />
                <span>
                  Save this card for auto-recharge
                  <span className="block text-xs text-slate-500">It replaces the saved card once the payment succeeds; turn auto-recharge on in Settings → Balance.</span>
                </span>
              </label>
            )}
            <ErrorMessage>{formError}</ErrorMessage>
            <button
              type="button"
              onClick={() => void continueToPayment()}
              disabled={busy !== null}
              className="inline-flex w-full items-center justify-center gap-2 rounded-lg bg-indigo-600 px-5 py-2.5 font-medium text-white hover:bg-indigo-500 disabled:opacity-60 sm:w-auto"
            >
              {(busy === "start" || busy === "quote") && <Spinner />}
              {checkoutMode === "hosted" ? "Pay" : "Continue to payment"}
            </button>
          </div>
        ) : payment.kind === "elements" ? (
          <div className="space-y-4">
            {paymentError && <ErrorMessage testId="payment-error">{paymentError} Nothing was charged. Try another card.</ErrorMessage>}
            <ErrorMessage testId="start-error">{startError}</ErrorMessage>
          {!checkout ? (
            <div className="flex flex-wrap items-center gap-3 text-sm text-slate-600">
              {busy === "start" ? (
                <>
                  <Spinner /> Preparing a new payment…
                </>
              ) : (
                <button type="button" onClick={() => void start()} className="rounded-lg bg-indigo-600 px-4 py-2 font-medium text-white hover:bg-indigo-500">
                  Try again
                </button>
              )}
              <button type="button" onClick={() => void cancel()} className="rounded-lg border border-slate-300 bg-white px-4 py-2 font-medium hover:bg-slate-50">
                Cancel
              </button>
            </div>
          ) : (
          <ElementsPayment
            key={checkout.clientSecret}
            publishableKey={payment.publishableKey}
            checkout={checkout}
            returnUrl={typeof window === "undefined" ? "" : new URL(settlingUrl(checkout.purchaseId), window.location.origin).toString()}
            onDone={() => router.push(settlingUrl(checkout.purchaseId))}
            onFailed={(message) => void retryAfterDecline(message)}
            onUnknown={() => router.push(settlingUrl(checkout.purchaseId))}
            onCancel={() => void cancel()}
          />
          )}
          </div>
        ) : (
          <div className="space-y-4">
            {needsAuth ? (
              <AuthenticationPanel onResult={(o) => void authenticate(o)} pending={busy !== null} />
            ) : (
              <TestCardPicker value={card} onChange={setCard} disabled={busy !== null} />
            )}
            <div aria-live="assertive">
              {paymentError && <ErrorMessage testId="payment-error">{paymentError} Nothing was charged. Choose another card to try again.</ErrorMessage>}
              <ErrorMessage testId="start-error">{startError}</ErrorMessage>
            </div>
            {!needsAuth && (
              <div className="flex flex-wrap gap-2">
                <button
                  type="button"
                  onClick={() => void payWithTestCard()}
                  disabled={busy !== null}
                  className="inline-flex items-center gap-2 rounded-lg bg-indigo-600 px-5 py-2.5 font-medium text-white hover:bg-indigo-500 disabled:opacity-60"
                >
                  {(busy === "pay" || busy === "start") && <Spinner />}
                  {busy === "pay" ? "Paying…" : `Pay ${amountLabel}`}
                </button>
                <button
                  type="button"
                  onClick={() => void cancel()}
                  disabled={busy !== null}
                  className="rounded-lg border border-slate-300 bg-white px-4 py-2.5 text-sm font-medium hover:bg-slate-50 disabled:opacity-60"
                >
                  {busy === "cancel" ? "Cancelling…" : "Cancel"}
                </button>
              </div>
            )}
          </div>
        )}
      </Card>
      <Card className="h-fit">
        <h2 className="mb-3 font-semibold">Order summary</h2>
        <OrderSummary pack={pack} quote={quote} />
      </Card>
    </div>
  );
}
