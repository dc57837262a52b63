// Errors in Stripe's JSON shape with Stripe's HTTP statuses, so the real SDK raises the same
// error classes it raises against Stripe (400/404 → StripeInvalidRequestError, 401 →
// Authentication, 402 → Card, 400 idempotency_error → StripeIdempotencyError, 409 → the SDK's
// StripeAPIError, which it retries on its own).
export type StripeErrorBody = {
  type: "invalid_request_error" | "card_error" | "idempotency_error" | "api_error";
  message: string;
  code?: string;
  param?: string;
  decline_code?: string;
  doc_url?: string;
  payment_intent?: unknown;
  payment_method?: unknown;
  charge?: string;
  request_log_url?: string;
};

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: StripeErrorBody,
  ) {
    super(body.message);
  }
}

export const invalidRequest = (message: string, extra: Partial<StripeErrorBody> = {}, status = 400) =>
  new ApiError(status, { type: "invalid_request_error", message, ...extra });

export const missing = (kind: string, id: string, param = "id", status = 404) =>
  invalidRequest(`No such ${kind}: '${id}'`, { code: "resource_missing", param, doc_url: "https://stripe.com/docs/error-codes/resource-missing" }, status);

export const parameterMissing = (param: string) =>
  invalidRequest(`Missing required param: ${param}.`, { code: "parameter_missing", param, doc_url: "https://stripe.com/docs/error-codes/parameter-missing" });

export const invalidInteger = (param: string, value: unknown) =>
  invalidRequest(`Invalid integer: ${String(value)}`, { code: "parameter_invalid_integer", param, doc_url: "https://stripe.com/docs/error-codes/parameter-invalid-integer" });

export const unknownParameter = (param: string) =>
  invalidRequest(`Received unknown parameter: ${param}`, { code: "parameter_unknown", param, doc_url: "https://stripe.com/docs/error-codes/parameter-unknown" });

/**
 * Stripe's answer to a request whose Idempotency-Key is held by another request still running:
 * 409 with type invalid_request_error (not idempotency_error, which is the 400 for different
 * parameters) and code idempotency_key_in_use, as real Stripe responses show.
 */
export const idempotencyKeyInUse = (key: string) =>
  new ApiError(409, {
    type: "invalid_request_error",
    code: "idempotency_key_in_use",
    message: `There is currently another in-progress request using this Idempotent Key (that probably means you submitted twice, and the other request is still going through): ${key}. Please try again later.`,
    doc_url: "https://stripe.com/docs/error-codes/idempotency-key-in-use",
  });
