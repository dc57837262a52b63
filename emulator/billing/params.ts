// Top-level parameters each billing endpoint accepts (others are 400 parameter_unknown), checked
// against the installed SDK's params types in both directions at compile time (see ../params.ts).
// The emulator acts on the ones billing implements; the rest are accepted and ignored.
import type Stripe from "stripe";
import { accepts } from "../params";

const PAGE = ["ending_before", "limit", "starting_after"] as const;

export const BILLING_ACCEPTED = {
  meterCreate: accepts<Stripe.Billing.MeterCreateParams>()(["default_aggregation", "display_name", "event_name", "customer_mapping", "event_time_window", "expand", "value_settings"]),
  meterRetrieve: accepts<Stripe.Billing.MeterRetrieveParams>()(["expand"]),
  meterList: accepts<Stripe.Billing.MeterListParams>()(["expand", "status", ...PAGE]),
  meterEventSummaries: accepts<Stripe.Billing.MeterListEventSummariesParams>()(["customer", "end_time", "start_time", "expand", "value_grouping_window", ...PAGE]),
  meterEventCreate: accepts<Stripe.Billing.MeterEventCreateParams>()(["event_name", "payload", "expand", "identifier", "timestamp"]),
  productCreate: accepts<Stripe.ProductCreateParams>()([
    "name", "active", "default_price_data", "description", "expand", "id", "images", "marketing_features", "metadata", "package_dimensions",
    "shippable", "statement_descriptor", "tax_code", "tax_details", "type", "unit_label", "url",
  ]),
  productRetrieve: accepts<Stripe.ProductRetrieveParams>()(["expand"]),
  productUpdate: accepts<Stripe.ProductUpdateParams>()([
    "active", "default_price", "description", "expand", "images", "marketing_features", "metadata", "name", "package_dimensions", "shippable",
    "statement_descriptor", "tax_code", "tax_details", "unit_label", "url",
  ]),
  productList: accepts<Stripe.ProductListParams>()(["active", "created", "expand", "ids", "shippable", "type", "url", ...PAGE]),
  priceCreate: accepts<Stripe.PriceCreateParams>()([
    "currency", "active", "billing_scheme", "currency_options", "custom_unit_amount", "expand", "lookup_key", "metadata", "nickname", "product",
    "product_data", "recurring", "tax_behavior", "tiers", "tiers_mode", "transfer_lookup_key", "transform_quantity", "unit_amount", "unit_amount_decimal",
  ]),
  priceRetrieve: accepts<Stripe.PriceRetrieveParams>()(["expand"]),
  priceUpdate: accepts<Stripe.PriceUpdateParams>()(["active", "currency_options", "expand", "lookup_key", "metadata", "nickname", "tax_behavior", "transfer_lookup_key"]),
  priceList: accepts<Stripe.PriceListParams>()(["active", "created", "currency", "expand", "lookup_keys", "product", "recurring", "type", ...PAGE]),
  subscriptionCreate: accepts<Stripe.SubscriptionCreateParams>()([
    "add_invoice_items", "application_fee_percent", "automatic_tax", "backdate_start_date", "billing_cycle_anchor", "billing_cycle_anchor_config",
    "billing_mode", "billing_schedules", "billing_thresholds", "cancel_at", "cancel_at_period_end", "collection_method", "currency", "customer",
    "customer_account", "days_until_due", "default_payment_method", "default_source", "default_tax_rates", "description", "discounts", "expand",
    "invoice_settings", "items", "metadata", "off_session", "on_behalf_of", "payment_behavior", "payment_settings", "pending_invoice_item_interval",
    "proration_behavior", "transfer_data", "trial_end", "trial_from_plan", "trial_period_days", "trial_settings",
  ]),
  subscriptionRetrieve: accepts<Stripe.SubscriptionRetrieveParams>()(["expand"]),
  subscriptionUpdate: accepts<Stripe.SubscriptionUpdateParams>()([
    "add_invoice_items", "application_fee_percent", "automatic_tax", "billing_cycle_anchor", "billing_schedules", "billing_thresholds", "cancel_at",
    "cancel_at_period_end", "cancellation_details", "collection_method", "days_until_due", "default_payment_method", "default_source",
    "default_tax_rates", "description", "discounts", "expand", "invoice_settings", "items", "metadata", "off_session", "on_behalf_of",
    "pause_collection", "payment_behavior", "payment_settings", "pending_invoice_item_interval", "proration_behavior", "proration_date",
    "transfer_data", "trial_end", "trial_from_plan", "trial_settings",
  ]),
  subscriptionCancel: accepts<Stripe.SubscriptionCancelParams>()(["cancellation_details", "expand", "invoice_now", "prorate"]),
  subscriptionList: accepts<Stripe.SubscriptionListParams>()([
    "automatic_tax", "collection_method", "created", "current_period_end", "current_period_start", "customer", "customer_account", "expand", "plan",
    "price", "status", "test_clock", ...PAGE,
  ]),
  invoiceRetrieve: accepts<Stripe.InvoiceRetrieveParams>()(["expand"]),
  invoiceList: accepts<Stripe.InvoiceListParams>()(["collection_method", "created", "customer", "customer_account", "due_date", "expand", "status", "subscription", ...PAGE]),
  invoiceLines: accepts<Stripe.InvoiceListLineItemsParams>()(["expand", ...PAGE]),
  invoicePay: accepts<Stripe.InvoicePayParams>()(["expand", "forgive", "mandate", "off_session", "paid_out_of_band", "payment_method", "source"]),
  invoiceVoid: accepts<Stripe.InvoiceVoidInvoiceParams>()(["expand"]),
  invoiceFinalize: accepts<Stripe.InvoiceFinalizeInvoiceParams>()(["auto_advance", "expand"]),
  invoicePreview: accepts<Stripe.InvoiceCreatePreviewParams>()([
    "automatic_tax", "currency", "customer", "customer_account", "customer_details", "discounts", "expand", "invoice_items", "issuer",
    "on_behalf_of", "preview_mode", "schedule", "schedule_details", "subscription", "subscription_details",
  ]),
  invoicePaymentList: accepts<Stripe.InvoicePaymentListParams>()(["created", "expand", "invoice", "payment", "status", ...PAGE]),
  testClockCreate: accepts<Stripe.TestHelpers.TestClockCreateParams>()(["frozen_time", "customer", "expand", "name"]),
  testClockRetrieve: accepts<Stripe.TestHelpers.TestClockRetrieveParams>()(["expand"]),
  testClockList: accepts<Stripe.TestHelpers.TestClockListParams>()(["expand", ...PAGE]),
  testClockDelete: accepts<Stripe.TestHelpers.TestClockDeleteParams>()([]),
  testClockAdvance: accepts<Stripe.TestHelpers.TestClockAdvanceParams>()(["frozen_time", "expand"]),
  scheduleCreate: accepts<Stripe.SubscriptionScheduleCreateParams>()([
    "billing_mode", "customer", "customer_account", "default_settings", "end_behavior", "expand", "from_subscription", "metadata", "pause_schedules",
    "phases", "start_date",
  ]),
  scheduleUpdate: accepts<Stripe.SubscriptionScheduleUpdateParams>()(["default_settings", "end_behavior", "expand", "metadata", "pause_schedules", "phases", "proration_behavior"]),
  scheduleRetrieve: accepts<Stripe.SubscriptionScheduleRetrieveParams>()(["expand"]),
  scheduleRelease: accepts<Stripe.SubscriptionScheduleReleaseParams>()(["expand", "preserve_cancel_date"]),
  scheduleCancel: accepts<Stripe.SubscriptionScheduleCancelParams>()(["expand", "invoice_now", "prorate"]),
  scheduleList: accepts<Stripe.SubscriptionScheduleListParams>()([
    "canceled_at", "completed_at", "created", "customer", "customer_account", "expand", "released_at", "scheduled", ...PAGE,
  ]),
  portalSessionCreate: accepts<Stripe.BillingPortal.SessionCreateParams>()([
    "after_expiration", "configuration", "customer", "customer_account", "expand", "flow_data", "locale", "on_behalf_of", "return_url",
  ]),
};
