// The webhook endpoint's logic, independent of Next: verify the raw body's signature, filter by
// livemode, process. Returns the HTTP status and a small JSON body.
import type { Db } from "@/db/client";
import { expectedLivemode } from "../stripe/client";
import { SignatureError, verifyWebhook } from "../stripe/webhook-events";
import { processStripeEvent, WebhookHandlerError } from "./process";

export type WebhookResponse = { status: number; body: Record<string, unknown> };

export async function receiveStripeWebhook(db: Db, rawBody: string, signature: string | null): Promise<WebhookResponse> {
  let event;
  try {
    event = verifyWebhook(rawBody, signature);
  } catch (e) {
    if (e instanceof SignatureError) {
      console.warn("[webhook] rejected: bad signature", { reason: e.message });
      return { status: 400, body: { error: "invalid signature" } };
    }
    return { status: 400, body: { error: "invalid payload" } };
  }
  if (event.livemode !== expectedLivemode()) {
    console.info("[webhook] ignored: livemode mismatch", { id: event.id, livemode: event.livemode });
    return { status: 200, body: { received: true, ignored: "livemode mismatch" } };
  }
  try {
    const outcome = await processStripeEvent(db, event);
    if (outcome.result === "ignored") console.info("[webhook] unhandled type", { id: event.id, type: event.type });
    return { status: 200, body: { received: true, ...outcome } };
  } catch (e) {
    const message = e instanceof WebhookHandlerError ? e.message : String(e);
    console.error("[webhook] handler failed", { id: event.id, type: event.type, error: message });
    return { status: 500, body: { error: "processing failed; Stripe will retry" } };
  }
}
