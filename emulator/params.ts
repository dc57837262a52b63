// Which top-level parameters each endpoint accepts, as Stripe refuses any other one with 400
// parameter_unknown ("Received unknown parameter: foo"). Each list is checked against the
// installed SDK's params type in both directions at compile time: a name the SDK does not know
// fails, and so does a name the SDK added that the list lacks. (The emulator accepts every
// listed name; it acts on the ones its resources implement.)
import type Stripe from "stripe";
import { unknownParameter } from "./errors";
import type { Params } from "./form";

type Missing<T, L extends readonly string[]> = Exclude<keyof T & string, L[number]>;

/** `list` must name exactly the keys of T (a missing one is a type error naming it). */
export function accepts<T>() {
  return <const L extends readonly (keyof T & string)[]>(list: L & ([Missing<T, L>] extends [never] ? unknown : { missing: Missing<T, L> })): ReadonlySet<string> =>
    new Set(list);
}

export const ACCEPTED = {
  paymentIntentCreate: accepts<Stripe.PaymentIntentCreateParams>()([
    "amount", "currency", "allowed_payment_method_types", "amount_details", "application_fee_amount", "automatic_payment_methods",
    "capture_method", "confirm", "confirmation_method", "confirmation_token", "customer", "customer_account", "description",
    "error_on_requires_action", "excluded_payment_method_types", "expand", "hooks", "mandate", "mandate_data", "metadata",
    "off_session", "on_behalf_of", "payment_details", "payment_method", "payment_method_configuration", "payment_method_data",
    "payment_method_options", "radar_options", "receipt_email", "return_url", "setup_future_usage", "shipping",
    "statement_descriptor", "statement_descriptor_suffix", "transfer_data", "transfer_group", "use_stripe_sdk",
  ]),
  paymentIntentUpdate: accepts<Stripe.PaymentIntentUpdateParams>()([
    "allowed_payment_method_types", "amount", "amount_details", "application_fee_amount", "capture_method", "currency", "customer",
    "customer_account", "description", "excluded_payment_method_types", "expand", "hooks", "metadata", "payment_details",
    "payment_method", "payment_method_configuration", "payment_method_data", "payment_method_options", "receipt_email",
    "setup_future_usage", "shipping", "statement_descriptor", "statement_descriptor_suffix", "transfer_data", "transfer_group",
  ]),
  paymentIntentConfirm: accepts<Stripe.PaymentIntentConfirmParams>()([
    "allowed_payment_method_types", "amount_details", "amount_to_confirm", "capture_method", "confirmation_token",
    "error_on_requires_action", "excluded_payment_method_types", "expand", "hooks", "mandate", "mandate_data", "off_session",
    "payment_details", "payment_method", "payment_method_data", "payment_method_options", "radar_options", "receipt_email",
    "return_url", "setup_future_usage", "shipping", "use_stripe_sdk",
  ]),
  paymentIntentCancel: accepts<Stripe.PaymentIntentCancelParams>()(["cancellation_reason", "expand"]),
  paymentIntentList: accepts<Stripe.PaymentIntentListParams>()(["created", "customer", "customer_account", "expand", "ending_before", "limit", "starting_after"]),
  paymentIntentRetrieve: accepts<Stripe.PaymentIntentRetrieveParams>()(["client_secret", "expand"]),
  customerCreate: accepts<Stripe.CustomerCreateParams>()([
    "address", "balance", "business_name", "cash_balance", "description", "email", "expand", "individual_name", "invoice_prefix",
    "invoice_settings", "metadata", "name", "next_invoice_sequence", "payment_method", "phone", "preferred_locales", "shipping",
    "source", "tax", "tax_exempt", "tax_id_data", "test_clock", "validate",
  ]),
  customerUpdate: accepts<Stripe.CustomerUpdateParams>()([
    "address", "balance", "business_name", "cash_balance", "default_source", "description", "email", "expand", "individual_name",
    "invoice_prefix", "invoice_settings", "metadata", "name", "next_invoice_sequence", "phone", "preferred_locales", "shipping",
    "source", "tax", "tax_exempt", "validate",
  ]),
  customerList: accepts<Stripe.CustomerListParams>()(["created", "email", "expand", "test_clock", "ending_before", "limit", "starting_after"]),
  customerRetrieve: accepts<Stripe.CustomerRetrieveParams>()(["expand"]),
  eventList: accepts<Stripe.EventListParams>()(["created", "delivery_success", "expand", "type", "types", "ending_before", "limit", "starting_after"]),
  eventRetrieve: accepts<Stripe.EventRetrieveParams>()(["expand"]),
  chargeRetrieve: accepts<Stripe.ChargeRetrieveParams>()(["expand"]),
  paymentMethodRetrieve: accepts<Stripe.PaymentMethodRetrieveParams>()(["expand"]),
  refundCreate: accepts<Stripe.RefundCreateParams>()(["amount", "charge", "currency", "customer", "expand", "instructions_email", "metadata", "origin", "payment_intent", "reason", "refund_application_fee", "reverse_transfer"]),
  refundRetrieve: accepts<Stripe.RefundRetrieveParams>()(["expand"]),
  refundList: accepts<Stripe.RefundListParams>()(["charge", "created", "expand", "payment_intent", "ending_before", "limit", "starting_after"]),
  disputeRetrieve: accepts<Stripe.DisputeRetrieveParams>()(["expand"]),
  disputeList: accepts<Stripe.DisputeListParams>()(["charge", "created", "expand", "payment_intent", "ending_before", "limit", "starting_after"]),
};

/** Refuses the first parameter the endpoint does not accept, before anything happens. */
export function checkParams(params: Params, accepted: ReadonlySet<string>): void {
  for (const name of Object.keys(params)) if (!accepted.has(name)) throw unknownParameter(name);
}
