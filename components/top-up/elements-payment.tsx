"use client";
// Real Stripe: the card is collected by Stripe Elements (card numbers never reach our servers)
// and confirmed by Stripe.js, which also runs 3-D Secure. The settling page then verifies the
// PaymentIntent with the API while the webhook finalises it.
// Errors: a card decline or a failed authentication ends this checkout (our server cancels the
// intent); a validation error leaves it open for another go; ANY other error (network, API, rate
// limit, …) means we do not know whether the payment went through, so the person is sent to the
// settling page of this same purchase, which asks Stripe what happened.
import { useMemo, useState } from "react";
import { loadStripe } from "@stripe/stripe-js";
import { Elements, PaymentElement, useElements, useStripe } from "@stripe/react-stripe-js";
import { formatMoney } from "@/lib/money/money";
import { Spinner } from "../ui";
import type { Checkout } from "./types";
import { classifyConfirmError } from "./confirm-errors";

const stripePromises = new Map<string, ReturnType<typeof loadStripe>>();
function stripeFor(key: string) {
  if (!stripePromises.has(key)) stripePromises.set(key, loadStripe(key));
  return stripePromises.get(key)!;
}

type Props = {
  publishableKey: string;
  checkout: Checkout;
  returnUrl: string;
  onDone: () => void;
  /** The payment was refused; this checkout is closed and the next try needs a new one. */
  onFailed: (message: string) => void;
  /** Outcome unknown: find out on the settling page of this purchase. */
  onUnknown: () => void;
  onCancel: () => void;
};

export function ElementsPayment(props: Props) {
  const options = useMemo(() => ({ clientSecret: props.checkout.clientSecret }), [props.checkout.clientSecret]);
  return (
    <Elements stripe={stripeFor(props.publishableKey)} options={options}>
      <ElementsForm {...props} />
    </Elements>
  );
}

function ElementsForm({ checkout, returnUrl, onDone, onFailed, onUnknown, onCancel }: Props) {
  const stripe = useStripe();
  const elements = useElements();
  const [error, setError] = useState<string | null>(null);
  const [pending, setPending] = useState(false);

  async function pay() {
    if (!stripe || !elements) return;
    setPending(true);
    setError(null);
    let result: { error?: { type?: string; code?: string; message?: string } };
    try {
      result = await stripe.confirmPayment({ elements, redirect: "if_required", confirmParams: { return_url: returnUrl } });
    } catch {
      onUnknown(); // the request may have reached Stripe
      return;
    }
    const { error } = result;
    if (error) {
      setPending(false);
      const kind = classifyConfirmError(error);
      if (kind === "retry_same") setError(error.message ?? "Check the card details.");
      else if (kind === "declined") onFailed(error.message ?? "The payment could not be completed.");
      else onUnknown();
      return;
    }
    onDone();
  }

  return (
    <div className="space-y-4">
      <PaymentElement />
      {error && (
        <p data-testid="payment-error" role="alert" className="rounded-lg bg-red-50 px-3 py-2 text-sm text-red-700">
          {error}
        </p>
      )}
      <div className="flex flex-wrap gap-2">
        <button type="button" onClick={pay} disabled={!stripe || pending} className="inline-flex items-center gap-2 rounded-lg bg-indigo-600 px-5 py-2.5 font-medium text-white hover:bg-indigo-500 disabled:opacity-60">
          {pending && <Spinner />}
          {!stripe ? "Loading payment form…" : pending ? "Paying…" : `Pay ${formatMoney(checkout.amount, checkout.currency)}`}
        </button>
        <button type="button" onClick={onCancel} disabled={pending} className="rounded-lg border border-slate-300 bg-white px-4 py-2.5 text-sm font-medium hover:bg-slate-50 disabled:opacity-60">
          Cancel
        </button>
      </div>
    </div>
  );
}
