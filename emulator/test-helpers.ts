// Helpers for the emulator's own tests: an emulator on a free port, the real SDK pointed at it,
// and a tiny webhook receiver that records what arrives.
import http from "node:http";
import type { AddressInfo } from "node:net";
import Stripe from "stripe";
import { startEmulator, type EmulatorOptions } from "./server";

export async function emulatorWithSdk(opts: EmulatorOptions = {}) {
  const emu = await startEmulator({ port: 0, stateFile: null, retryScheduleMs: [50, 100], ...opts });
  const sdk = (config: Stripe.StripeConfig = {}) =>
    new Stripe("sk_test_emulator_tests", { host: "127.0.0.1", port: emu.port, protocol: "http", maxNetworkRetries: 0, ...config });
  const stripe = sdk();
  const control = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${emu.url}${path}`, { method, headers: { "content-type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) });
    return { status: res.status, body: (await res.json()) as any };
  };
  /**
   * Holds the next request matching method + path (a regular expression) in flight for delayMs,
   * and returns a function that resolves once that request has arrived and is being held.
   */
  const holdNext = async (method: string, path: string, delayMs: number, phase: "before" | "after" = "before") => {
    await control("POST", "/_emulator/latency", { method, path, delayMs, phase, times: 1 });
    return async () => {
      for (let i = 0; i < 500; i++) {
        if ((await control("GET", "/_emulator/latency")).body.data.length === 0) return;
        await new Promise((r) => setTimeout(r, 5));
      }
      throw new Error("the held request never arrived");
    };
  };
  return { emu, stripe, sdk, control, holdNext };
}

export type Received = { body: string; signature: string; type: string };

export async function receiver(respond: (r: Received, n: number) => number = () => 200) {
  const received: Received[] = [];
  const server = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks).toString("utf8");
    const r = { body, signature: String(req.headers["stripe-signature"]), type: JSON.parse(body).type as string };
    received.push(r);
    res.writeHead(respond(r, received.length)).end();
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  return { url, received, close: () => new Promise<void>((r) => server.close(() => r())) };
}
