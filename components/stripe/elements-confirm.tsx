"use client";
// Stripe Elements, shared by every form that confirms an intent in the browser (real Stripe): the
// top-up's PaymentIntent (components/top-up/elements-payment.tsx) and the saved card's
// SetupIntent (components/settings/card-setup-elements.tsx). Card numbers never reach our
// servers. The caller says how to confirm (confirmPayment / confirmSetup, redirect if_required,
// a return_url that comes back to a page which verifies the intent on the server) and what each
// outcome means; this form shows progress, keeps validation errors on the form, and never leaves
// a dead button (a thrown confirm is an unknown outcome, handed back to the caller).
import { useMemo, useState } from "react";
import { loadStripe, type Stripe, type StripeElements } from "@stripe/stripe-js";
import { Elements, PaymentElement, useElements, useStripe } from "@stripe/react-stripe-js";
import { ErrorMessage, Spinner } from "../ui";
import { classifyConfirmError } from "./confirm-errors";

const stripePromises = new Map<string, ReturnType<typeof loadStripe>>();
function stripeFor(key: string) {
  if (!stripePromises.has(key)) stripePromises.set(key, loadStripe(key));
  return stripePromises.get(key)!;
}

export type ConfirmResult = { error?: { type?: string; code?: string; message?: string } };

export type ElementsConfirmProps = {
  publishableKey: string;
  clientSecret: string;
  /** confirmPayment / confirmSetup with the elements (redirect: "if_required", a return_url). */
  confirm: (stripe: Stripe, elements: StripeElements) => Promise<ConfirmResult>;
  submitLabel: string;
  pendingLabel: string;
  onDone: () => void;
  /** A decline or a failed authentication (known "no"). */
  onFailed: (message: string) => void;
  /** Outcome unknown: the server must ask Stripe. */
  onUnknown: () => void;
  onCancel?: () => void;
};

export function ElementsConfirm(props: ElementsConfirmProps) {
  const options = useMemo(() => ({ clientSecret: props.clientSecret }), [props.clientSecret]);
  return (
    <Elements stripe={stripeFor(props.publishableKey)} options={options}>
      <ElementsConfirmForm {...props} />
    </Elements>
  );
}

function ElementsConfirmForm({ confirm, submitLabel, pendingLabel, onDone, onFailed, onUnknown, onCancel }: ElementsConfirmProps) {
  const stripe = useStripe();
  const elements = useElements();
  const [error, setError] = useState<string | null>(null);
  const [pending, setPending] = useState(false);

  async function submit() {
    if (!stripe || !elements) return;
    setPending(true);
    setError(null);
    let result: ConfirmResult;
    try {
      result = await confirm(stripe, elements);
    } catch {
      onUnknown(); // the request may have reached Stripe
      return;
    }
    const { error } = result;
    if (error) {
      setPending(false);
      const kind = classifyConfirmError(error);
      if (kind === "retry_same") setError(error.message ?? "Check the card details.");
      else if (kind === "declined") onFailed(error.message ?? "The card was declined.");
      else onUnknown();
      return;
    }
    onDone();
  }

  return (
    <div className="space-y-4">
      <PaymentElement />
      <ErrorMessage testId="payment-error">{error}</ErrorMessage>
      <div className="flex flex-wrap gap-2">
        <button type="button" onClick={() => void submit()} disabled={!stripe || pending} className="inline-flex items-center gap-2 rounded-lg bg-indigo-600 px-5 py-2.5 font-medium text-white hover:bg-indigo-500 disabled:opacity-60">
          {(pending || !stripe) && <Spinner />}
          {!stripe ? "Loading the card form…" : pending ? pendingLabel : submitLabel}
        </button>
        {onCancel && (
          <button type="button" onClick={onCancel} disabled={pending} className="rounded-lg border border-slate-300 bg-white px-4 py-2.5 text-sm font-medium hover:bg-slate-50 disabled:opacity-60">
            Cancel
          </button>
        )}
      </div>
    </div>
  );
}
