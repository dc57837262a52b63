// The control surface outside Stripe's API, under /_emulator/: webhook endpoints and their
// secrets, chaos options, reset, delivery log, drain, resend, the clock, and the stand-in for a
// customer completing 3-D Secure. JSON in and out, no auth (it only listens on localhost).
import { newId, randomToken } from "./ids";
import { invalidRequest, missing } from "./errors";
import type { Clock } from "./clock";
import type { Deliverer } from "./events/deliverer";
import type { Outbox } from "./events/outbox";
import type { Store } from "./store";
import { authenticate } from "./resources/payment-intents";
import type { Ctx } from "./resources/context";

export type ControlDeps = { store: Store; clock: Clock; outbox: Outbox; deliverer: Deliverer; ctx: () => Ctx };

export async function handleControl(
  deps: ControlDeps,
  method: string,
  path: string,
  query: URLSearchParams,
  body: Record<string, unknown>,
): Promise<{ status: number; body: unknown }> {
  const { store, clock, outbox, deliverer } = deps;
  const s = store.state;
  let m: RegExpMatchArray | null;

  if (method === "GET" && path === "/_emulator/health") return { status: 200, body: { ok: true } };

  if (path === "/_emulator/webhook_endpoints") {
    if (method === "GET") return { status: 200, body: { data: s.endpoints } };
    if (method === "POST") {
      const url = typeof body.url === "string" ? body.url : "";
      if (!/^https?:\/\//.test(url)) throw invalidRequest("url must be an http(s) URL", { param: "url" });
      const secret = typeof body.secret === "string" && body.secret ? body.secret : `whsec_${randomToken(32)}`;
      let ep = s.endpoints.find((e) => e.url === url);
      if (ep) ep.secret = secret;
      else {
        ep = { id: newId("we"), url, secret };
        s.endpoints.push(ep);
      }
      store.changed();
      return { status: 200, body: ep };
    }
  }
  if (method === "DELETE" && (m = path.match(/^\/_emulator\/webhook_endpoints\/([^/]+)$/))) {
    const before = s.endpoints.length;
    s.endpoints = s.endpoints.filter((e) => e.id !== m![1]);
    if (s.endpoints.length === before) throw missing("webhook_endpoint", m[1]!);
    s.outbox = s.outbox.filter((d) => d.endpointId !== m![1] || d.state !== "pending");
    store.changed();
    return { status: 200, body: { id: m[1], deleted: true } };
  }

  if (method === "POST" && path === "/_emulator/chaos") {
    s.chaos = {
      duplicate: Math.max(0, Math.floor(Number(body.duplicate ?? 0)) || 0),
      reorder: body.reorder === true,
      delayMs: Math.max(0, Math.floor(Number(body.delayMs ?? 0)) || 0),
    };
    store.changed();
    return { status: 200, body: s.chaos };
  }

  if (method === "POST" && path === "/_emulator/reset") {
    store.reset();
    clock.offsetSeconds = 0;
    return { status: 200, body: { ok: true } };
  }

  if (method === "GET" && path === "/_emulator/deliveries") {
    const eventId = query.get("event_id");
    return { status: 200, body: { data: eventId ? s.attempts.filter((a) => a.event_id === eventId) : s.attempts } };
  }

  if (method === "POST" && path === "/_emulator/drain") {
    const timeoutMs = Number(body.timeoutMs ?? 10_000);
    const deadline = Date.now() + timeoutMs;
    while (deliverer.pendingCount() > 0) {
      if (Date.now() > deadline) return { status: 408, body: { pending: deliverer.pendingCount() } };
      await new Promise((r) => setTimeout(r, 20));
    }
    return { status: 200, body: { pending: 0 } };
  }

  if (method === "POST" && (m = path.match(/^\/_emulator\/events\/([^/]+)\/resend$/))) {
    const event = s.events.find((e) => e.id === m![1]);
    if (!event) throw missing("event", m[1]!);
    outbox.enqueue(event);
    return { status: 200, body: { id: event.id, pending_webhooks: event.pending_webhooks } };
  }

  if (path === "/_emulator/clock") {
    if (method === "GET") return { status: 200, body: { now: clock.now() } };
  }
  if (method === "POST" && path === "/_emulator/clock/advance") {
    const seconds = Number(body.seconds);
    if (!Number.isFinite(seconds) || seconds <= 0) throw invalidRequest("seconds must be a number > 0", { param: "seconds" });
    clock.advance(seconds);
    s.clockOffset = clock.offsetSeconds;
    store.changed();
    return { status: 200, body: { now: clock.now() } };
  }

  if (method === "POST" && (m = path.match(/^\/_emulator\/payment_intents\/([^/]+)\/authenticate$/))) {
    const outcome = body.outcome === "fail" ? "fail" : body.outcome === "succeed" ? "succeed" : null;
    if (!outcome) throw invalidRequest('outcome must be "succeed" or "fail"', { param: "outcome" });
    const pi = authenticate(deps.ctx(), m[1]!, outcome);
    store.changed();
    return { status: 200, body: pi };
  }

  throw invalidRequest(`Unrecognized request URL (${method}: ${path}).`, {}, 404);
}
