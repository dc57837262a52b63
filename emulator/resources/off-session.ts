// Off-session PaymentIntents (`off_session: true, confirm: true` with a saved card), as Stripe
// treats them: off_session needs confirm=true; a PaymentMethod attached to a customer can only be
// used with that customer; a card that would need 3-D Secure cannot be authenticated with the
// customer away, so the charge is declined with `authentication_required` (the intent returns to
// requires_payment_method with that error) instead of asking for an action.
import type Stripe from "stripe";
import { invalidRequest } from "../errors";
import { bool, str } from "../form";
import type { Params } from "../form";
import type { Ctx } from "./context";
import type { Decline } from "./payment-methods";

export const AUTHENTICATION_REQUIRED: Decline = {
  kind: "decline",
  code: "authentication_required",
  declineCode: "authentication_required",
  message: "Your card was declined. This transaction requires authentication.",
};

/** Validates a create's off-session parameters (before anything is written); true when off-session. */
export function offSessionOf(ctx: Ctx, p: Params, customer: string | undefined, pmParam: string | undefined): boolean {
  const raw = p.off_session;
  const offSession = raw === undefined ? false : (bool(raw) ?? (str(raw) === "one_off" || str(raw) === "recurring"));
  if (offSession && !bool(p.confirm)) {
    throw invalidRequest("You can only set `off_session` when `confirm` is true.", { param: "off_session" });
  }
  if (pmParam) {
    const stored = ctx.store.state.paymentMethods[pmParam] as Stripe.PaymentMethod | undefined;
    const owner = stored && typeof stored.customer === "string" ? stored.customer : null;
    if (owner && owner !== customer) {
      throw invalidRequest(`The provided PaymentMethod is attached to another customer. Pass customer=${owner} to use it.`, { param: "payment_method" });
    }
  }
  return offSession;
}
