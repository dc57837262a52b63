// The webhook endpoint's logic, independent of Next: read the body with a byte cap (never
// buffering more than the limit), verify the raw body's signature, check it is an event, filter by
// livemode, process. Returns the HTTP status and a small JSON body.
//
// Refusals, in order: a declared Content-Length over the limit (413, nothing read); a content
// type other than application/json (415); a body that grows past the limit while streaming (413,
// the rest is not read); an empty body (400 "empty body"); a missing or bad signature (400
// "invalid signature"); a correctly
// signed body that is not an event (400 "malformed event", logged as malformed). None writes.
import type { Db } from "@/db/client";
import { classifyDbError } from "../db-errors";
import { declaredOver, readBodyCapped } from "../http/read-capped";
import { log } from "../log";
import { expectedLivemode } from "../stripe/client";
import { MalformedEventError, verifyWebhook } from "../stripe/webhook-events";
import { processStripeEvent, WebhookHandlerError } from "./process";

export type WebhookResponse = { status: number; body: Record<string, unknown> };

/** Stripe's events are a few kilobytes; anything near this is not one. */
export const WEBHOOK_MAX_BYTES = 1024 * 1024;

const tooLarge: WebhookResponse = { status: 413, body: { error: `payload too large (limit ${WEBHOOK_MAX_BYTES} bytes)` } };

/** The whole request: size and content type first, then the body, capped, into receiveStripeWebhook. */
export async function receiveStripeWebhookRequest(db: Db, request: Request): Promise<WebhookResponse> {
  if (declaredOver(request, WEBHOOK_MAX_BYTES)) {
    log.warn({ event: "webhook_too_large", declaredBytes: Number(request.headers.get("content-length")) }, "webhook rejected: declared body over the limit");
    await request.body?.cancel().catch(() => {});
    return tooLarge;
  }
  const mediaType = request.headers.get("content-type")?.split(";")[0]?.trim().toLowerCase();
  if (mediaType !== "application/json") {
    log.warn({ event: "webhook_bad_content_type", contentType: mediaType ?? null }, "webhook rejected: content type");
    await request.body?.cancel().catch(() => {});
    return { status: 415, body: { error: "content type must be application/json" } };
  }
  const bytes = await readBodyCapped(request, WEBHOOK_MAX_BYTES);
  if (bytes === null) {
    log.warn({ event: "webhook_too_large" }, "webhook rejected: body grew over the limit");
    return tooLarge;
  }
  // Decoded as is (no BOM stripping): the signature is over the exact bytes Stripe sent.
  return receiveStripeWebhook(db, bytes.toString("utf8"), request.headers.get("stripe-signature"));
}

export async function receiveStripeWebhook(db: Db, rawBody: string, signature: string | null): Promise<WebhookResponse> {
  if (rawBody.length === 0) {
    log.warn({ event: "webhook_empty_body", signed: Boolean(signature) }, "webhook rejected: empty body");
    return { status: 400, body: { error: "empty body" } };
  }
  let event;
  try {
    event = verifyWebhook(rawBody, signature);
  } catch (e) {
    if (e instanceof MalformedEventError) {
      log.warn({ event: "webhook_malformed_event", reason: e.message, bytes: Buffer.byteLength(rawBody) }, "webhook rejected: signed body is not a Stripe event");
      return { status: 400, body: { error: "malformed event" } };
    }
    log.warn({ event: "webhook_bad_signature", reason: e instanceof Error ? e.message : String(e) }, "webhook rejected: bad signature");
    return { status: 400, body: { error: "invalid signature" } };
  }
  const eventId = event.id;
  if (event.livemode !== expectedLivemode()) {
    log.info({ event: "webhook_livemode_mismatch", eventId, livemode: event.livemode }, "webhook ignored: livemode mismatch");
    return { status: 200, body: { received: true, ignored: "livemode mismatch" } };
  }
  try {
    const outcome = await processStripeEvent(db, event);
    if (outcome.result === "ignored") log.info({ event: "webhook_unhandled_type", eventId, type: event.type }, "webhook: no handler for this type");
    return { status: 200, body: { received: true, ...outcome } };
  } catch (e) {
    const message = e instanceof WebhookHandlerError ? e.message : String(e);
    // A database outage or timeout is a 500 like any failure, so Stripe retries; said as such.
    const dbFailure = classifyDbError(e);
    log.error({ event: "webhook_handler_failed", eventId, type: event.type, error: message, db: dbFailure?.kind }, "webhook handler failed");
    return { status: 500, body: { error: dbFailure ? `database ${dbFailure.kind}; Stripe will retry` : "processing failed; Stripe will retry" } };
  }
}
