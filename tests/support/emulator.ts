// Talks to the local Stripe emulator's control surface (/_emulator/…) from tests.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeEach } from "vitest";
import type { Db } from "@/db/client";
import { receiveStripeWebhook } from "@/lib/webhooks/receive";

export function emulatorUrl(path: string): string {
  return new URL(path, process.env.STRIPE_EMULATOR_URL).toString();
}

async function control<T = unknown>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(emulatorUrl(path), {
    method,
    headers: body === undefined ? {} : { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`emulator ${method} ${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

export const resetEmulator = () => control("POST", "/_emulator/reset");
export const setChaos = (c: { duplicate?: number; reorder?: boolean; delayMs?: number }) => control("POST", "/_emulator/chaos", c);
export const drainDeliveries = (timeoutMs = 15_000) => control<{ pending: number }>("POST", "/_emulator/drain", { timeoutMs });
/** Makes matching Stripe API requests fail with an api_error (count times, or until clearFaults). */
export const injectFault = (f: { method?: string; path: string; status?: number; count?: number }) => control("POST", "/_emulator/faults", f);
export const clearFaults = () => control("DELETE", "/_emulator/faults");
export const resendEvent = (id: string) => control("POST", `/_emulator/events/${id}/resend`);
export const deliveries = (eventId?: string) =>
  control<{ event_id: string; event_type: string; status: number | null; ok: boolean; attempt: number }[]>(
    "GET",
    `/_emulator/deliveries${eventId ? `?event_id=${eventId}` : ""}`,
  );


/**
 * Holds matching Stripe API requests in flight for delayMs (`path` is a regular expression over
 * the URL path, e.g. "^/v1/payment_intents/[^/]+/cancel$"). `before`: the request waits with its
 * idempotency key taken (a second request with the key gets 409 idempotency_key_in_use);
 * `after`: it runs and is stored, and its response waits (a slow network, a client timeout).
 * `times` limits it to the next N matching requests. Cleared by clearLatency() and by reset.
 */
export const holdRequests = (rule: { method?: string; path?: string; delayMs: number; phase?: "before" | "after"; times?: number }) =>
  control("POST", "/_emulator/latency", rule);
export const clearLatency = () => control("DELETE", "/_emulator/latency");
/** Moves the emulator's clock forward; whatever it passes (processing payments settling) happens now. */
export const advanceClock = (seconds: number) => control<{ now: number; ran: number }>("POST", "/_emulator/clock/advance", { seconds });
/** How long pm_card_processing_succeeds / _fails stay `processing` (emulator clock; default 5 s). */
export const setProcessingDelay = (delaySeconds: number) => control("POST", "/_emulator/processing", { delaySeconds });
/** Settles a `processing` PaymentIntent now (its scheduled outcome unless one is given). */
export const settlePaymentIntent = (id: string, outcome?: "succeed" | "fail") =>
  control("POST", `/_emulator/payment_intents/${id}/settle`, outcome ? { outcome } : {});
/** The account's default API version, which every new event carries. */
export const setAccountApiVersion = (apiVersion: string) => control("POST", "/_emulator/account", { api_version: apiVersion });

/**
 * Serves the webhook route logic on a local port and registers it with the emulator, so events
 * travel emulator → signed HTTP POST → our handler, as with Stripe.
 */
export async function startWebhookReceiver(
  handle: (body: string, signature: string | null) => Promise<{ status: number; body: unknown }>,
): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    try {
      const out = await handle(Buffer.concat(chunks).toString("utf8"), (req.headers["stripe-signature"] as string) ?? null);
      res.writeHead(out.status, { "content-type": "application/json" }).end(JSON.stringify(out.body));
    } catch (e) {
      res.writeHead(500).end(String(e));
    }
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/stripe/webhook`;
  await control("POST", "/_emulator/webhook_endpoints", { url, secret: process.env.STRIPE_WEBHOOK_SECRET });
  return { url, close: () => new Promise((r) => server.close(() => r())) };
}

/**
 * For a test file: before each test, a fresh webhook receiver running the app's own webhook path
 * over `db` (the previous one closed); the last one closed after the file.
 */
export function useWebhookReceiver(db: Db): void {
  let receiver: Awaited<ReturnType<typeof startWebhookReceiver>> | undefined;
  beforeEach(async () => {
    await receiver?.close();
    receiver = await startWebhookReceiver((body, sig) => receiveStripeWebhook(db, body, sig));
  });
  afterAll(async () => receiver?.close());
}

/**
 * Opens a dispute on a succeeded charge (the cardholder's bank, in tests): charge.dispute.created.
 * `inquiry`: an inquiry (warning_needs_response), no money withdrawn.
 */
export const openDispute = (chargeId: string, opts: { amount?: number; reason?: string; inquiry?: boolean } = {}) =>
  control<{ id: string; amount: number; status: string }>("POST", `/_emulator/charges/${chargeId}/dispute`, opts);
/** Closes a chargeback as won or lost, an inquiry as warning_closed: charge.dispute.closed. */
export const closeDispute = (disputeId: string, status: "won" | "lost" | "warning_closed") =>
  control<{ id: string; status: string }>("POST", `/_emulator/disputes/${disputeId}/close`, { status });
/** An open inquiry becomes a chargeback (needs_response): charge.dispute.updated and .funds_withdrawn. */
export const escalateDispute = (disputeId: string) => control<{ id: string; status: string }>("POST", `/_emulator/disputes/${disputeId}/escalate`);
