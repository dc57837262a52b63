"use client";
// The Plan page's interactive part: compare plans (monthly / annual, the annual saving), start one
// (trial where the plan has one) and pay its first invoice with the same payment form as top-ups
// (Elements with the invoice's confirmation secret, or the test-card picker), watch it settle;
// then change it (preview first: what is charged now and how many credits arrive now), cancel at
// period end or keep it, undo a scheduled change, open the billing portal. Only admins act;
// members see the plan and a note. Every action is a server action that re-checks the role.
import { useEffect, useRef, useState } from "react";
import { useRouter } from "next/navigation";
import {
  authenticateSubscriptionPaymentAction,
  cancelScheduledChangeAction,
  changePlanAction,
  confirmSubscriptionTestCardAction,
  openBillingPortalAction,
  previewPlanChangeAction,
  setPlanCancellationAction,
  startPlanCheckoutAction,
  startSubscriptionAction,
  subscriptionStatusAction,
} from "@/lib/actions/plan-actions";
import type { TestPaymentMethod } from "@/lib/stripe/test-cards";
import type { CurrentPlanView, PlanCard } from "@/lib/subscriptions/queries";
import type { ChangePreview } from "@/lib/subscriptions/changes";
import { formatCredits, formatMoney } from "@/lib/money/money";
import { Badge, Card, ErrorMessage, Spinner } from "../ui";
import { formatDateTime } from "../entry-labels";
import { ElementsPayment } from "../top-up/elements-payment";
import { AuthenticationPanel, TestCardPicker } from "../top-up/test-card-payment";

type PaymentConfig = { kind: "elements"; publishableKey: string } | { kind: "test-cards" };
type Interval = "month" | "year";
type Payment = { subscriptionId: string; clientSecret: string; amountDue: number; currency: string; planName: string };
type Pending = { planKey: string; interval: Interval; preview: ChangePreview };

const LIVE = ["active", "trialing", "past_due", "unpaid", "paused"];
const date = (iso: string | null) => (iso ? formatDateTime(new Date(iso)) : "—");
const STATUS_TONE: Record<string, "green" | "amber" | "red" | "slate" | "indigo"> = { active: "green", trialing: "indigo", past_due: "red", unpaid: "red", incomplete: "amber", canceled: "slate" };

export function PlanManager(props: {
  slug: string;
  plans: PlanCard[];
  current: CurrentPlanView | null;
  canManage: boolean;
  payment: PaymentConfig;
  creditsGranted: number;
  /** "hosted": Start goes to Stripe Checkout (CHECKOUT_MODE); "embedded": the payment form here. */
  checkoutMode?: "embedded" | "hosted";
  /** Back from Stripe Checkout with this subscription not running yet: show it settling. */
  settlingId?: string | null;
}) {
  const { slug, plans, current, canManage, payment, checkoutMode = "embedded" } = props;
  const router = useRouter();
  const [interval, setInterval] = useState<Interval>(current?.interval ?? "month");
  const [busy, setBusy] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [pay, setPay] = useState<Payment | null>(null);
  const [card, setCard] = useState<TestPaymentMethod>("pm_card_visa");
  const [needsAuth, setNeedsAuth] = useState(false);
  const [settling, setSettling] = useState<string | null>(props.settlingId ?? null);
  const [pending, setPending] = useState<Pending | null>(null);
  const requestId = useRef<string>(crypto.randomUUID());
  const fresh = () => (requestId.current = crypto.randomUUID());

  const live = current && LIVE.includes(current.status) ? current : null;
  const unpaid = current?.status === "incomplete" || current?.status === "creating" ? current : null;
  const planName = (key: string | null) => plans.find((p) => p.key === key)?.name ?? key ?? "";

  // Settling: poll the status (which verifies with Stripe) until the plan is running or refused.
  useEffect(() => {
    if (!settling) return;
    let stop = false;
    let timer: ReturnType<typeof setTimeout>;
    const started = Date.now();
    const poll = async (delay: number) => {
      const r = await subscriptionStatusAction({ orgSlug: slug, subscriptionId: settling }).catch(() => null);
      if (stop) return;
      if (r?.ok && ["active", "trialing"].includes(r.data.status)) {
        setSettling(null);
        setPay(null);
        setNotice("Your plan is active.");
        router.refresh();
        return;
      }
      if (Date.now() - started > 90_000) {
        setSettling(null);
        setNotice("Still confirming with Stripe. We'll finish in the background — reload this page in a moment.");
        return;
      }
      timer = setTimeout(() => void poll(Math.min(delay * 1.5, 3000)), delay);
    };
    timer = setTimeout(() => void poll(800), 300);
    return () => {
      stop = true;
      clearTimeout(timer);
    };
  }, [settling, slug, router]);

  async function run<T>(label: string, fn: () => Promise<T>): Promise<T | null> {
    setBusy(label);
    setError(null);
    setNotice(null);
    try {
      return await fn();
    } catch {
      setError("Something went wrong. Please reload the page to see where things stand.");
      return null;
    } finally {
      setBusy(null);
    }
  }

  async function start(planKey: string, iv: Interval) {
    if (checkoutMode === "hosted") return startOnStripeCheckout(planKey, iv);
    const r = await run("start", () => startSubscriptionAction({ orgSlug: slug, planKey, interval: iv, requestId: requestId.current }));
    if (!r) return;
    if (!r.ok) {
      setError(r.error);
      if (r.code === "conflict") fresh();
      return;
    }
    if (r.data.clientSecret) {
      setPay({ subscriptionId: r.data.subscriptionId, clientSecret: r.data.clientSecret, amountDue: r.data.amountDue, currency: r.data.currency, planName: planName(planKey) });
    } else setSettling(r.data.subscriptionId);
  }

  /** Hosted checkout: the same reserved row (same request id on a double click), paid on Stripe's page. */
  async function startOnStripeCheckout(planKey: string, iv: Interval) {
    const r = await run("start", () => startPlanCheckoutAction({ orgSlug: slug, planKey, interval: iv, requestId: requestId.current }));
    if (!r) return;
    if (!r.ok) {
      setError(r.error);
      if (r.code === "conflict") fresh();
      return;
    }
    setBusy("start"); // stays on while the browser leaves for Stripe
    window.location.assign(r.data.url);
  }

  function outcome(r: Awaited<ReturnType<typeof confirmSubscriptionTestCardAction>> | null, subscriptionId: string) {
    if (!r) return;
    if (!r.ok) {
      if (r.code === "internal" || r.code === "payment_provider_unavailable") setSettling(subscriptionId);
      else setError(r.error);
      return;
    }
    if (r.data.outcome === "requires_action") return setNeedsAuth(true);
    setNeedsAuth(false);
    if (r.data.outcome === "declined") return setError(`${r.data.message} Nothing was charged. Choose another card to try again.`);
    setSettling(subscriptionId);
  }

  async function payWithTestCard() {
    if (!pay) return;
    outcome(await run("pay", () => confirmSubscriptionTestCardAction({ orgSlug: slug, subscriptionId: pay.subscriptionId, paymentMethod: card })), pay.subscriptionId);
  }

  async function authenticate(o: "succeed" | "fail") {
    if (!pay) return;
    outcome(await run("auth", () => authenticateSubscriptionPaymentAction({ orgSlug: slug, subscriptionId: pay.subscriptionId, outcome: o })), pay.subscriptionId);
  }

  async function preview(planKey: string, iv: Interval) {
    const r = await run("preview", () => previewPlanChangeAction({ orgSlug: slug, planKey, interval: iv }));
    if (!r) return;
    if (!r.ok) return setError(r.error);
    fresh();
    setPending({ planKey, interval: iv, preview: r.data });
  }

  async function confirmChange() {
    if (!pending) return;
    const r = await run("change", () => changePlanAction({ orgSlug: slug, planKey: pending.planKey, interval: pending.interval, requestId: requestId.current }));
    if (!r) return;
    setPending(null);
    fresh();
    if (!r.ok) return setError(r.error);
    setNotice(r.data.message);
    router.refresh();
  }

  async function simple(label: string, fn: () => Promise<{ ok: boolean; error?: string }>, done: string) {
    const r = await run(label, fn);
    fresh();
    if (!r) return;
    if (!r.ok) return setError(r.error ?? "That didn't work.");
    setNotice(done);
    router.refresh();
  }

  async function portal() {
    const r = await run("portal", () => openBillingPortalAction({ orgSlug: slug, purpose: "manage" }));
    if (r?.ok) window.location.assign(r.data.url);
    else if (r) setError(r.error);
  }

  const messages = (
    <div aria-live="polite">
      <ErrorMessage testId="plan-error" className="mb-3">{error}</ErrorMessage>
      {notice && <p data-testid="plan-notice" className="mb-3 rounded-lg bg-emerald-50 px-3 py-2 text-sm text-emerald-800">{notice}</p>}
    </div>
  );

  if (settling) {
    return (
      <Card>
        <div data-testid="plan-settling" role="status" className="flex items-center gap-3">
          <Spinner className="h-6 w-6 text-indigo-600" />
          <div>
            <p className="font-semibold">Confirming your plan with Stripe…</p>
            <p className="text-sm text-slate-600">This usually takes a few seconds. Don&apos;t pay again.</p>
          </div>
        </div>
      </Card>
    );
  }

  if (pay) {
    return (
      <Card>
        {messages}
        <h2 className="mb-3 font-semibold">Pay for {pay.planName}: {formatMoney(pay.amountDue, pay.currency)}</h2>
        {payment.kind === "elements" ? (
          <ElementsPayment
            key={pay.clientSecret}
            publishableKey={payment.publishableKey}
            checkout={{ purchaseId: pay.subscriptionId, clientSecret: pay.clientSecret, amount: pay.amountDue, discount: 0, currency: pay.currency, credits: 0 }}
            returnUrl={typeof window === "undefined" ? "" : new URL(`/orgs/${slug}/billing/plan`, window.location.origin).toString()}
            onDone={() => setSettling(pay.subscriptionId)}
            onFailed={(m) => setError(`${m} Nothing was charged. Try another card.`)}
            onUnknown={() => setSettling(pay.subscriptionId)}
            onCancel={() => setPay(null)}
          />
        ) : (
          <div className="space-y-4">
            {needsAuth ? <AuthenticationPanel onResult={(o) => void authenticate(o)} pending={busy !== null} /> : <TestCardPicker value={card} onChange={setCard} disabled={busy !== null} />}
            {!needsAuth && (
              <div className="flex flex-wrap gap-2">
                <button type="button" onClick={() => void payWithTestCard()} disabled={busy !== null} className="inline-flex items-center gap-2 rounded-lg bg-indigo-600 px-5 py-2.5 font-medium text-white hover:bg-indigo-500 disabled:opacity-60">
                  {busy === "pay" && <Spinner />} {busy === "pay" ? "Paying…" : `Pay ${formatMoney(pay.amountDue, pay.currency)}`}
                </button>
                <button type="button" onClick={() => setPay(null)} disabled={busy !== null} className="rounded-lg border border-slate-300 bg-white px-4 py-2.5 text-sm font-medium hover:bg-slate-50 disabled:opacity-60">
                  Back
                </button>
              </div>
            )}
          </div>
        )}
      </Card>
    );
  }

  return (
    <div className="space-y-4">
      {messages}
      {live && (
        <Card>
          <div data-testid="current-plan" data-status={live.status} className="space-y-2">
            <div className="flex flex-wrap items-center gap-2">
              <h2 className="text-lg font-semibold">{planName(live.planKey)} · {live.interval === "year" ? "annual" : "monthly"}</h2>
              <Badge tone={STATUS_TONE[live.status] ?? "slate"}>{live.status.replace("_", " ")}</Badge>
            </div>
            {live.status === "trialing" && <p className="text-sm text-slate-700">Trial until {date(live.trialEnd)}. Add a card in the billing portal before then to keep the plan.</p>}
            <p className="text-sm text-slate-700">
              {live.cancelAtPeriodEnd ? `Ends on ${date(live.currentPeriodEnd)} — no more renewals.` : `Renews on ${date(live.currentPeriodEnd)}.`}{" "}
              {formatCredits(plans.find((p) => p.key === live.planKey)?.creditsPerMonth ?? 0)} credits per month.
            </p>
            {live.scheduledPlanKey && (
              <p data-testid="scheduled-change" className="text-sm text-indigo-800">
                Scheduled: {planName(live.scheduledPlanKey)} ({live.scheduledInterval === "year" ? "annual" : "monthly"}) from {date(live.scheduledAt)}.
              </p>
            )}
            <p className="text-sm text-slate-600">Credits granted by plans so far: <span data-testid="plan-credits">{formatCredits(props.creditsGranted)}</span>.</p>
            {canManage ? (
              <div className="flex flex-wrap gap-2 pt-2">
                {live.scheduledPlanKey && (
                  <button type="button" disabled={busy !== null} onClick={() => void simple("unschedule", () => cancelScheduledChangeAction({ orgSlug: slug, requestId: requestId.current }), "The scheduled change is cancelled.")} className="rounded-lg border border-slate-300 bg-white px-4 py-2 text-sm font-medium hover:bg-slate-50 disabled:opacity-60">
                    Keep {planName(live.planKey)}
                  </button>
                )}
                {live.cancelAtPeriodEnd ? (
                  <button type="button" data-testid="keep-plan" disabled={busy !== null} onClick={() => void simple("keep", () => setPlanCancellationAction({ orgSlug: slug, choice: "keep", requestId: requestId.current }), "Your plan will renew as usual.")} className="rounded-lg bg-indigo-600 px-4 py-2 text-sm font-medium text-white hover:bg-indigo-500 disabled:opacity-60">
                    Keep my plan
                  </button>
                ) : (
                  <button type="button" data-testid="cancel-plan" disabled={busy !== null} onClick={() => void simple("cancel", () => setPlanCancellationAction({ orgSlug: slug, choice: "cancel_at_period_end", requestId: requestId.current }), "Your plan will end at the end of the period. Your credits stay.")} className="rounded-lg border border-slate-300 bg-white px-4 py-2 text-sm font-medium hover:bg-slate-50 disabled:opacity-60">
                    Cancel at period end
                  </button>
                )}
                <button type="button" disabled={busy !== null} onClick={() => void portal()} className="rounded-lg border border-slate-300 bg-white px-4 py-2 text-sm font-medium hover:bg-slate-50 disabled:opacity-60">
                  {busy === "portal" && <Spinner />} Billing portal
                </button>
              </div>
            ) : (
              <p className="text-sm text-slate-500">Only organisation admins can change the plan.</p>
            )}
          </div>
        </Card>
      )}
      {!live && current && ["canceled", "incomplete_expired"].includes(current.status) && (
        <Card>
          <p data-testid="plan-ended" className="text-sm text-slate-700">
            Your {planName(current.planKey)} plan ended{current.endedAt ? ` on ${date(current.endedAt)}` : ""}. Your credits stay. Choose a plan to start again.
          </p>
        </Card>
      )}
      {pending && (
        <Card>
          <div data-testid="change-preview" className="space-y-2">
            <h2 className="font-semibold">Switch to {planName(pending.planKey)} ({pending.interval === "year" ? "annual" : "monthly"})</h2>
            {pending.preview.kind === "at_period_end" ? (
              <p className="text-sm text-slate-700">Nothing is charged now. The change takes effect on {date(pending.preview.effectiveAt)}, at the end of the period you have paid for.</p>
            ) : pending.preview.keepsTrialUntil ? (
              <p className="text-sm text-slate-700">Nothing is charged now: your trial continues until {date(pending.preview.keepsTrialUntil)}, then the new plan is billed.</p>
            ) : (
              <p className="text-sm text-slate-700">
                Charged now: <strong data-testid="preview-amount">{formatMoney(pending.preview.amountDueNow, pending.preview.currency)}</strong> (prorated for the rest of the period). Credits added now:{" "}
                <strong data-testid="preview-credits">{formatCredits(pending.preview.creditsNow)}</strong>.
              </p>
            )}
            <div className="flex flex-wrap gap-2 pt-1">
              <button type="button" data-testid="confirm-change" disabled={busy !== null} onClick={() => void confirmChange()} className="inline-flex items-center gap-2 rounded-lg bg-indigo-600 px-4 py-2 text-sm font-medium text-white hover:bg-indigo-500 disabled:opacity-60">
                {busy === "change" && <Spinner />} Confirm
              </button>
              <button type="button" disabled={busy !== null} onClick={() => setPending(null)} className="rounded-lg border border-slate-300 bg-white px-4 py-2 text-sm font-medium hover:bg-slate-50 disabled:opacity-60">
                Not now
              </button>
            </div>
          </div>
        </Card>
      )}
      <Card>
        <div className="mb-4 flex flex-wrap items-center justify-between gap-2">
          <h2 className="font-semibold">{live ? "Change plan" : "Choose a plan"}</h2>
          <div role="radiogroup" aria-label="Billing interval" className="inline-flex rounded-lg border border-slate-300 p-0.5 text-sm">
            {(["month", "year"] as const).map((iv) => (
              <button key={iv} type="button" role="radio" aria-checked={interval === iv} onClick={() => setInterval(iv)} className={`rounded-md px-3 py-1 ${interval === iv ? "bg-indigo-600 text-white" : "text-slate-700"}`}>
                {iv === "month" ? "Monthly" : "Annual"}
              </button>
            ))}
          </div>
        </div>
        {unpaid && canManage && (
          <p className="mb-3 text-sm text-amber-800">
            Your {planName(unpaid.planKey)} plan is waiting for its first payment.{" "}
            <button type="button" className="font-medium underline" onClick={() => void start(unpaid.planKey, unpaid.interval)}>Finish paying</button>
          </p>
        )}
        <div className="grid gap-3 sm:grid-cols-3">
          {plans.map((p) => {
            const isCurrent = live?.planKey === p.key && live.interval === interval;
            const amount = interval === "month" ? p.monthlyAmount : p.annualAmount;
            return (
              <div key={p.key} data-testid={`plan-${p.key}`} className={`flex flex-col rounded-xl border p-4 ${isCurrent ? "border-indigo-600 bg-indigo-50" : "border-slate-200"}`}>
                <h3 className="font-semibold">{p.name}</h3>
                <p className="text-sm text-slate-600">{p.description}</p>
                <p className="mt-2 text-2xl font-semibold tabular-nums">
                  {formatMoney(amount, p.currency)}
                  <span className="text-sm font-normal text-slate-500">/{interval === "month" ? "month" : "year"}</span>
                </p>
                {interval === "year" && <p className="text-xs text-emerald-700">Save {formatMoney(p.annualSaving.amount, p.currency)} ({p.annualSaving.percent}%) vs monthly</p>}
                <p className="mt-1 text-sm">{formatCredits(p.creditsPerMonth)} credits every month{interval === "year" && p.annualGrantsMonthly ? " (granted monthly)" : ""}</p>
                {p.trialDays > 0 && !live && <p className="text-xs text-indigo-700">{p.trialDays}-day trial with {formatCredits(p.trialCredits)} credits</p>}
                <p data-testid={`overage-${p.key}`} className="mt-1 text-xs text-slate-600">
                  {p.overageUnitAmount === null
                    ? "No overage: deliveries pause when credits run out"
                    : interval === "month"
                      ? `Overage: campaigns keep running past your credits at ${formatMoney(p.overageUnitAmount, p.currency)} a credit, on the next invoice`
                      : "Overage with monthly billing only"}
                </p>
                <div className="mt-auto pt-3">
                  {isCurrent ? (
                    <span className="text-sm font-medium text-indigo-700">Current plan</span>
                  ) : canManage ? (
                    <button
                      type="button"
                      disabled={busy !== null || Boolean(live && live.status !== "active" && live.status !== "trialing")}
                      onClick={() => void (live ? preview(p.key, interval) : start(p.key, interval))}
                      className="inline-flex w-full items-center justify-center gap-2 rounded-lg bg-indigo-600 px-4 py-2 text-sm font-medium text-white hover:bg-indigo-500 disabled:opacity-60"
                    >
                      {(busy === "start" || busy === "preview") && <Spinner />}
                      {live ? "Switch" : p.trialDays > 0 ? "Start trial" : `Start ${p.name}`}
                    </button>
                  ) : null}
                </div>
              </div>
            );
          })}
        </div>
        {!canManage && !live && <p className="mt-3 text-sm text-slate-500">Only organisation admins can start a plan.</p>}
      </Card>
    </div>
  );
}
