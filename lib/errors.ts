// Domain errors: a code and a message that is safe to show to the user. Anything else that is
// thrown is unexpected: logged with context, shown as a generic message.
export type ErrorCode =
  | "invalid_input"
  | "unauthenticated"
  | "forbidden"
  | "not_found"
  | "conflict"
  | "coupon_invalid"
  | "rate_limited"
  | "payment_declined"
  | "insufficient_credits"
  | "payment_provider_unavailable";

const httpStatus: Record<ErrorCode, number> = {
  invalid_input: 400,
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  coupon_invalid: 422,
  rate_limited: 429,
  payment_declined: 402,
  insufficient_credits: 402,
  payment_provider_unavailable: 503,
};

export class AppError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = "AppError";
  }
  get status(): number {
    return httpStatus[this.code];
  }
}

// Never "nothing was charged": an unexpected error can happen after Stripe took a payment (which
// is then credited by the webhook), so the message must not claim what we do not know.
export const GENERIC_ERROR_MESSAGE =
  "Something went wrong on our side. Please try again in a moment; if you were paying, your transactions show whether the payment went through.";
