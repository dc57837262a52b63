// The parameters each SetupIntent endpoint accepts, checked against the installed SDK's params
// types in both directions at compile time (as emulator/params.ts does for the other endpoints).
import type Stripe from "stripe";

type Missing<T, L extends readonly string[]> = Exclude<keyof T & string, L[number]>;

function list<T>() {
  return <const L extends readonly (keyof T & string)[]>(names: L & ([Missing<T, L>] extends [never] ? unknown : { missing: Missing<T, L> })): ReadonlySet<string> =>
    new Set(names);
}

export const accepts = {
  create: list<Stripe.SetupIntentCreateParams>()([
    "allowed_payment_method_types", "attach_to_self", "automatic_payment_methods", "confirm", "confirmation_token", "customer",
    "customer_account", "description", "excluded_payment_method_types", "expand", "flow_directions", "mandate_data", "metadata",
    "on_behalf_of", "payment_method", "payment_method_configuration", "payment_method_data", "payment_method_options", "return_url",
    "single_use", "usage", "use_stripe_sdk",
  ]),
  retrieve: list<Stripe.SetupIntentRetrieveParams>()(["client_secret", "expand"]),
  confirm: list<Stripe.SetupIntentConfirmParams>()([
    "allowed_payment_method_types", "confirmation_token", "expand", "mandate_data", "payment_method", "payment_method_data",
    "payment_method_options", "return_url", "use_stripe_sdk",
  ]),
  cancel: list<Stripe.SetupIntentCancelParams>()(["cancellation_reason", "expand"]),
};
