// Talks to the local Stripe emulator's control surface (/_emulator/…) from tests.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

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
export const resendEvent = (id: string) => control("POST", `/_emulator/events/${id}/resend`);
export const deliveries = (eventId?: string) =>
  control<{ event_id: string; event_type: string; status: number | null; ok: boolean; attempt: number }[]>(
    "GET",
    `/_emulator/deliveries${eventId ? `?event_id=${eventId}` : ""}`,
  );

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
