"use client";
// Real Stripe: the top-up's PaymentIntent confirmed by Stripe.js through the shared Elements form
// (components/stripe/elements-confirm.tsx), which also runs 3-D Secure. The settling page then
// verifies the PaymentIntent with the API while the webhook finalises it.
// Errors: a card decline or a failed authentication ends this checkout (our server cancels the
// intent); a validation error leaves it open for another go; ANY other error (network, API, rate
// limit, …) means we do not know whether the payment went through, so the person is sent to the
// settling page of this same purchase, which asks Stripe what happened.
import { formatMoney } from "@/lib/money/money";
import { ElementsConfirm } from "../stripe/elements-confirm";
import type { Checkout } from "./types";

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

export function ElementsPayment({ publishableKey, checkout, returnUrl, onDone, onFailed, onUnknown, onCancel }: Props) {
  return (
    <ElementsConfirm
      publishableKey={publishableKey}
      clientSecret={checkout.clientSecret}
      confirm={(stripe, elements) => stripe.confirmPayment({ elements, redirect: "if_required", confirmParams: { return_url: returnUrl } })}
      submitLabel={`Pay ${formatMoney(checkout.amount, checkout.currency)}`}
      pendingLabel="Paying…"
      onDone={onDone}
      onFailed={onFailed}
      onUnknown={onUnknown}
      onCancel={onCancel}
    />
  );
}
