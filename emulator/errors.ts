// Errors in Stripe's JSON shape with Stripe's HTTP statuses, so the real SDK raises the same
// error classes it raises against Stripe (400 → StripeInvalidRequestError, 401 → Authentication,
// 402 → Card, idempotency_error → StripeIdempotencyError).
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

export const missing = (kind: string, id: string, param = "id") =>
  invalidRequest(`No such ${kind}: '${id}'`, { code: "resource_missing", param, doc_url: "https://stripe.com/docs/error-codes/resource-missing" }, 404);

export const parameterMissing = (param: string) =>
  invalidRequest(`Missing required param: ${param}.`, { code: "parameter_missing", param, doc_url: "https://stripe.com/docs/error-codes/parameter-missing" });

export const invalidInteger = (param: string, value: unknown) =>
  invalidRequest(`Invalid integer: ${String(value)}`, { code: "parameter_invalid_integer", param, doc_url: "https://stripe.com/docs/error-codes/parameter-invalid-integer" });

export const unknownParameter = (param: string) =>
  invalidRequest(`Received unknown parameter: ${param}`, { code: "parameter_unknown", param, doc_url: "https://stripe.com/docs/error-codes/parameter-unknown" });
