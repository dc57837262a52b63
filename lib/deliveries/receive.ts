// The delivery API's HTTP logic, independent of Next (the route is a thin shell):
//   POST /api/v1/campaigns/{campaignId}/deliveries
//   Authorization: Bearer cl_live_… | cl_test_…      (an organisation API key)
//   Idempotency-Key: <1–255 printable ASCII characters>
//   Content-Type: application/json                   body: {} or { "reference": "…" } (optional)
// Answers JSON. Success: 201 { delivery: {…} } (a retry with the same key gets the same body and
// Idempotent-Replayed: true). Every error: { error: { code, message } } with one of the codes in
// API_ERRORS. Order: authenticate (reads only) → validate headers and body → the campaign must be
// the key's organisation's (reads only) → rate limit (the key's per-minute counter) → record.
// So a missing, revoked or other organisation's key and a bad request write nothing.
import { z } from "zod";
import type { Db } from "@/db/client";
import { AppError } from "../errors";
import { log } from "../log";
import { bearerKey } from "../api-keys/keys";
import { authenticateApiKey } from "../api-keys/service";
import { takeRequest } from "../api-keys/rate-limit";
import { declaredOver, readBodyCapped } from "../http/read-capped";
import { campaignOfOrg, recordDelivery, type DeliveryView } from "./service";

export const API_ERRORS = {
  unauthenticated: 401,
  invalid_request: 400,
  unsupported_media_type: 415,
  payload_too_large: 413,
  not_found: 404,
  campaign_not_active: 409,
  idempotency_key_reused: 409,
  insufficient_credits: 402,
  rate_limited: 429,
  internal_error: 500,
} as const;
export type ApiErrorCode = keyof typeof API_ERRORS;

export const MAX_BODY_BYTES = 16 * 1024;
const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const bodySchema = z
  .object({
    reference: z
      .string()
      .min(1)
      .max(200)
      // No control characters (\p{Cc}) and well-formed Unicode: with the u flag a surrogate pair
      // is one code point, so \p{Cs} matches only a lone surrogate, which JSON can carry
      // ("\ud800") but UTF-8 cannot: stored, it would become U+FFFD, not what was sent.
      // (String.prototype.isWellFormed is ES2024, beyond this project's TypeScript lib.)
      .regex(/^[^\p{Cc}\p{Cs}]*$/u)
      .optional(),
  })
  .strict();

const KEY_INVALID = "This API key is not valid (unknown or revoked).";

function apiError(code: ApiErrorCode, message: string, headers: Record<string, string> = {}): Response {
  return Response.json({ error: { code, message } }, { status: API_ERRORS[code], headers });
}

function deliveryJson(d: DeliveryView) {
  return {
    id: d.id,
    object: "delivery",
    campaign_id: d.campaignId,
    status: d.status,
    credits: d.credits,
    overage_credits: d.overageCredits,
    balance_after: d.balanceAfter,
    reference: d.reference,
    created_at: d.createdAt,
  };
}

export async function receiveDeliveryRequest(db: Db, request: Request, rawCampaignId: string): Promise<Response> {
  const requestId = crypto.randomUUID();
  // UUIDs are case-insensitive (so is UUID below, and PostgreSQL's uuid type), but the request
  // hash is over the text: one spelling, so a retry in another case is the same request.
  const campaignId = rawCampaignId.toLowerCase();
  const key = bearerKey(request.headers.get("authorization"));
  if (!key) return apiError("unauthenticated", "Send an organisation API key: Authorization: Bearer <key>.");
  const auth = await authenticateApiKey(db, key);
  if (!auth) return apiError("unauthenticated", KEY_INVALID);

  const idempotencyKey = request.headers.get("idempotency-key");
  if (!idempotencyKey || !IDEMPOTENCY_KEY.test(idempotencyKey)) {
    return apiError("invalid_request", "Send an Idempotency-Key header of 1 to 255 printable ASCII characters, unique per delivery.");
  }
  // Content-Length only refuses early; a chunked body has none, so the cap holds while reading
  // (request.text() would buffer any size before it could be measured, ahead of the rate limit).
  if (declaredOver(request, MAX_BODY_BYTES)) {
    await request.body?.cancel().catch(() => {});
    return apiError("payload_too_large", `The body is limited to ${MAX_BODY_BYTES} bytes.`);
  }
  const bytes = await readBodyCapped(request, MAX_BODY_BYTES);
  if (bytes === null) return apiError("payload_too_large", `The body is limited to ${MAX_BODY_BYTES} bytes.`);
  const raw = new TextDecoder().decode(bytes); // as request.text() decodes: UTF-8, a BOM dropped
  let body: unknown = {};
  if (raw.trim() !== "") {
    const type = (request.headers.get("content-type") ?? "").split(";")[0]!.trim().toLowerCase();
    if (type !== "application/json") return apiError("unsupported_media_type", "Send the body as application/json.");
    try {
      body = JSON.parse(raw);
    } catch {
      return apiError("invalid_request", "The body is not valid JSON.");
    }
  }
  const parsed = bodySchema.safeParse(body);
  if (!parsed.success) {
    return apiError("invalid_request", "The body must be a JSON object with at most a \"reference\": a string of 1 to 200 characters without control characters (well-formed Unicode).");
  }
  if (!UUID.test(campaignId) || !(await campaignOfOrg(db, auth.orgId, campaignId))) {
    return apiError("not_found", "No such campaign for this API key's organisation.");
  }

  // The key again, since the body may have taken a while: a revoked key is not counted, and
  // recordDelivery checks it once more under a lock that orders it with a revocation.
  const rate = await takeRequest(db, auth.keyId);
  if (!rate) return apiError("unauthenticated", KEY_INVALID);
  const rateHeaders = { "RateLimit-Limit": String(rate.limit), "RateLimit-Remaining": String(rate.remaining) };
  if (!rate.allowed) {
    return apiError("rate_limited", `Too many requests for this API key: at most ${rate.limit} per minute.`, { ...rateHeaders, "Retry-After": String(rate.retryAfterSeconds) });
  }

  const reqLog = log.child({ requestId, orgId: auth.orgId, apiKeyId: auth.keyId, campaignId });
  try {
    const { delivery, replayed } = await recordDelivery(db, {
      orgId: auth.orgId,
      campaignId,
      idempotencyKey,
      reference: parsed.data.reference ?? null,
      apiKeyId: auth.keyId,
    });
    reqLog.info({ event: "delivery_recorded", deliveryId: delivery.id, replayed }, "delivery recorded");
    return Response.json({ delivery: deliveryJson(delivery) }, { status: 201, headers: { ...rateHeaders, ...(replayed ? { "Idempotent-Replayed": "true" } : {}) } });
  } catch (e) {
    if (e instanceof AppError) {
      const apiCode = (e.details?.apiCode as ApiErrorCode | undefined) ?? (e.code in API_ERRORS ? (e.code as ApiErrorCode) : null);
      if (apiCode && apiCode in API_ERRORS) return apiError(apiCode, e.message, rateHeaders);
      if (e.code === "conflict") return apiError("campaign_not_active", e.message, rateHeaders);
    }
    reqLog.error({ event: "delivery_failed", err: e }, "delivery request failed");
    return apiError("internal_error", "Something went wrong on our side; nothing was debited. Retry with the same Idempotency-Key.", rateHeaders);
  }
}
