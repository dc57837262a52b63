// What a SetupIntent, as Stripe reports it, means for a card-saving attempt (pure).
//   succeeded                                   → the card can be saved;
//   requires_payment_method + last_setup_error  → this try failed (another card may still be
//                                                 tried on the same SetupIntent);
//   requires_payment_method without an error    → not tried yet (pending);
//   requires_action                             → the cardholder must authenticate (3-D Secure);
//   requires_confirmation / processing          → pending;
//   canceled                                    → over, nothing saved.
import type Stripe from "stripe";

export type SetupVerdict =
  | { kind: "succeeded"; paymentMethodId: string }
  | { kind: "failed"; code: string; message: string }
  | { kind: "requires_action" }
  | { kind: "pending" }
  | { kind: "canceled" };

type SetupIntentView = Pick<Stripe.SetupIntent, "status" | "payment_method" | "last_setup_error">;

export function setupIntentVerdict(si: SetupIntentView): SetupVerdict {
  switch (si.status) {
    case "succeeded": {
      const pm = typeof si.payment_method === "string" ? si.payment_method : (si.payment_method?.id ?? null);
      return pm ? { kind: "succeeded", paymentMethodId: pm } : { kind: "pending" };
    }
    case "requires_payment_method": {
      const e = si.last_setup_error;
      if (!e) return { kind: "pending" };
      return { kind: "failed", code: e.decline_code ?? e.code ?? e.type ?? "setup_failed", message: e.message ?? "The card could not be saved." };
    }
    case "requires_action":
      return { kind: "requires_action" };
    case "canceled":
      return { kind: "canceled" };
    default:
      return { kind: "pending" };
  }
}
