// Verifies a webhook delivery's Stripe-Signature against every configured secret (rotation), then
// checks that the signed body is an event. The two failures stay apart: a bad signature is
// someone without our secret (SignatureError); a correct signature over a body that is not an
// event is a bug or a change at the sender (MalformedEventError) and is logged as such.
import "server-only";
import Stripe from "stripe";
import { z } from "zod";
import { stripe, webhookSecrets } from "./client";

export class SignatureError extends Error {}
export class MalformedEventError extends Error {}

/** Stripe's own default: signatures older than five minutes are refused (replays). */
const SIGNATURE_TOLERANCE_SECONDS = 300;

// The fields the app relies on before dispatching; the rest of the event is kept as sent.
const eventShape = z.object({
  id: z.string().regex(/^evt_[A-Za-z0-9_]+$/),
  object: z.literal("event"),
  type: z.string().min(1).max(200),
  livemode: z.boolean(),
  created: z.number().int(),
  data: z.object({ object: z.record(z.string(), z.unknown()) }),
});

export function verifyWebhook(rawBody: string, signatureHeader: string | null, secrets = webhookSecrets()): Stripe.Event {
  if (!signatureHeader) throw new SignatureError("missing Stripe-Signature header");
  const signature = stripe().webhooks.signature;
  if (!signature) throw new Error("the Stripe SDK has no signature helper");
  let verified = false;
  let lastError: unknown;
  for (const secret of secrets) {
    try {
      signature.verifyHeader(rawBody, signatureHeader, secret, SIGNATURE_TOLERANCE_SECONDS);
      verified = true;
      break;
    } catch (e) {
      lastError = e;
    }
  }
  if (!verified) throw new SignatureError(lastError instanceof Error ? lastError.message : "signature verification failed");
  return parseEvent(rawBody);
}

function parseEvent(rawBody: string): Stripe.Event {
  let json: unknown;
  try {
    json = JSON.parse(rawBody);
  } catch {
    throw new MalformedEventError("body is not JSON");
  }
  const checked = eventShape.safeParse(json);
  if (!checked.success) {
    const fields = [...new Set(checked.error.issues.map((i) => i.path.join(".") || "(root)"))].join(", ");
    throw new MalformedEventError(`not a Stripe event (${fields})`);
  }
  return json as Stripe.Event;
}
