"use client";
// Real Stripe: the card is collected by Stripe Elements (card numbers never reach our servers)
// and confirmed by Stripe.js, which also runs 3-D Secure. The settling page then verifies the
// PaymentIntent with the API while the webhook finalises it.
import { useMemo, useState } from "react";
import { loadStripe } from "@stripe/stripe-js";
import { Elements, PaymentElement, useElements, useStripe } from "@stripe/react-stripe-js";
import { formatMoney } from "@/lib/money/money";
import { Spinner } from "../ui";
import type { Checkout } from "./types";

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

function ElementsForm({ checkout, returnUrl, onDone, onFailed, onCancel }: Props) {
  const stripe = useStripe();
  const elements = useElements();
  const [error, setError] = useState<string | null>(null);
  const [pending, setPending] = useState(false);

  async function pay() {
    if (!stripe || !elements) return;
    setPending(true);
    setError(null);
    const { error } = await stripe.confirmPayment({ elements, redirect: "if_required", confirmParams: { return_url: returnUrl } });
    if (error) {
      setPending(false);
      // Card and authentication errors close this PaymentIntent (our webhook cancels it);
      // validation errors (an incomplete card number) leave it open for another go.
      if (error.type === "validation_error") setError(error.message ?? "Check the card details.");
      else onFailed(error.message ?? "The payment could not be completed.");
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
