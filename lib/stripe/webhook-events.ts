// Verifies a webhook delivery's Stripe-Signature against every configured secret (rotation).
import "server-only";
import Stripe from "stripe";
import { stripe, webhookSecrets } from "./client";

export class SignatureError extends Error {}

export function verifyWebhook(rawBody: string, signatureHeader: string | null, secrets = webhookSecrets()): Stripe.Event {
  if (!signatureHeader) throw new SignatureError("missing Stripe-Signature header");
  let lastError: unknown;
  for (const secret of secrets) {
    try {
      return stripe().webhooks.constructEvent(rawBody, signatureHeader, secret);
    } catch (e) {
      lastError = e;
    }
  }
  throw new SignatureError(lastError instanceof Error ? lastError.message : "signature verification failed");
}
