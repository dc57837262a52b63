// The control surface outside Stripe's API, under /_emulator/: webhook endpoints and their
// secrets (and API versions), the account's API version, chaos options, request latency, reset,
// delivery log, drain, resend, the clock and what it has scheduled, the stand-in for a customer
// completing 3-D Secure, settling a `processing` payment now, and injected API failures
// (faults). JSON in and out, no auth (it only listens on localhost).
import { newId, randomToken } from "./ids";
import { invalidRequest, missing } from "./errors";
import type { Clock } from "./clock";
import type { Deliverer } from "./events/deliverer";
import type { Outbox } from "./events/outbox";
import type { LatencyRule, Store } from "./store";
import { authenticate, getPaymentIntent, settleProcessing } from "./resources/payment-intents";
import { onPaymentIntentSettled } from "./resources/checkout-sessions";
import type { Ctx } from "./resources/context";
import type { Scheduler } from "./scheduler";
import { handleDisputeControl } from "./resources/disputes";

/**
 * Injected API failures for tests (not persisted): a request whose method and path match answers
 * with a Stripe api_error of that status (not stored under its idempotency key, as Stripe does not
 * keep a failure that happened before the request ran), `remaining` times or until cleared.
 */
export type Fault = { method: string; path: RegExp; status: number; remaining: number | null };

export function takeFault(faults: Fault[], method: string, path: string): Fault | undefined {
  const f = faults.find((x) => x.method === method && x.path.test(path) && (x.remaining === null || x.remaining > 0));
  if (f && f.remaining !== null) f.remaining--;
  return f;
}

export type ControlDeps = { store: Store; clock: Clock; outbox: Outbox; deliverer: Deliverer; scheduler: Scheduler; ctx: () => Ctx; faults: Fault[] };

const API_VERSION_FORMAT = /^\d{4}-\d{2}-\d{2}(\.[a-z]+)?$/;

function apiVersionParam(v: unknown): string | null {
  if (v === undefined || v === null) return null;
  if (typeof v !== "string" || !API_VERSION_FORMAT.test(v)) throw invalidRequest("api_version must look like 2026-10-28.endive", { param: "api_version" });
  return v;
}

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
      const apiVersion = apiVersionParam(body.api_version);
      let ep = s.endpoints.find((e) => e.url === url);
      if (ep) Object.assign(ep, { secret, api_version: apiVersion });
      else {
        ep = { id: newId("we"), url, secret, api_version: apiVersion };
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

  if (path === "/_emulator/faults") {
    if (method === "DELETE") {
      deps.faults.length = 0;
      return { status: 200, body: { data: [] } };
    }
    if (method === "POST") {
      const status = Number(body.status ?? 500);
      if (typeof body.path !== "string" || !Number.isInteger(status) || status < 400) throw invalidRequest("faults take {method, path (a regular expression), status >= 400, count?}");
      const count = body.count === undefined ? null : Math.max(1, Math.floor(Number(body.count)));
      deps.faults.push({ method: String(body.method ?? "POST").toUpperCase(), path: new RegExp(body.path), status, remaining: count });
      return { status: 200, body: { data: deps.faults.map((f) => ({ ...f, path: f.path.source })) } };
    }
  }

  if (method === "POST" && path === "/_emulator/reset") {
    deps.faults.length = 0;
    store.reset();
    clock.offsetSeconds = 0;
    deps.scheduler.runDue(); // re-arms on the empty schedule
    return { status: 200, body: { ok: true } };
  }

  // The account's default API version: every event created from now on carries it.
  if (path === "/_emulator/account") {
    if (method === "GET") return { status: 200, body: { api_version: s.apiVersion } };
    if (method === "POST") {
      const v = apiVersionParam(body.api_version);
      if (!v) throw invalidRequest("api_version is required", { param: "api_version" });
      s.apiVersion = v;
      store.changed();
      return { status: 200, body: { api_version: s.apiVersion } };
    }
  }

  // Holds matching API requests in flight (see LatencyRule). POST adds a rule, DELETE clears all.
  if (path === "/_emulator/latency") {
    if (method === "GET") return { status: 200, body: { data: s.latency } };
    if (method === "DELETE") {
      s.latency = [];
      return { status: 200, body: { data: s.latency } };
    }
    if (method === "POST") {
      const delayMs = Math.floor(Number(body.delayMs));
      if (!Number.isFinite(delayMs) || delayMs <= 0 || delayMs > 120_000) throw invalidRequest("delayMs must be a number of milliseconds in (0, 120000]", { param: "delayMs" });
      const phase = body.phase === undefined ? "before" : body.phase;
      if (phase !== "before" && phase !== "after") throw invalidRequest('phase must be "before" or "after"', { param: "phase" });
      const pathPattern = typeof body.path === "string" && body.path ? body.path : null;
      if (pathPattern) {
        try {
          new RegExp(pathPattern);
        } catch {
          throw invalidRequest("path must be a regular expression", { param: "path" });
        }
      }
      const times = body.times === undefined || body.times === null ? null : Math.floor(Number(body.times));
      if (times !== null && !(times >= 1)) throw invalidRequest("times must be ≥ 1", { param: "times" });
      const rule: LatencyRule = { method: typeof body.method === "string" ? body.method.toUpperCase() : null, path: pathPattern, delayMs, phase, times };
      s.latency.push(rule);
      return { status: 200, body: { data: s.latency } };
    }
  }

  // How long a `processing` payment (pm_card_processing_*) takes to settle on the emulator's clock.
  if (method === "POST" && path === "/_emulator/processing") {
    const seconds = Number(body.delaySeconds);
    if (!Number.isFinite(seconds) || seconds < 0) throw invalidRequest("delaySeconds must be a number ≥ 0", { param: "delaySeconds" });
    s.processingDelaySeconds = seconds;
    store.changed();
    return { status: 200, body: { delaySeconds: s.processingDelaySeconds } };
  }

  if (method === "GET" && path === "/_emulator/scheduled") {
    return { status: 200, body: { data: deps.scheduler.pending() } };
  }

  // Settles a `processing` payment now, with its scheduled outcome or the one given.
  if (method === "POST" && (m = path.match(/^\/_emulator\/payment_intents\/([^/]+)\/settle$/))) {
    const ctx = deps.ctx();
    const pi = getPaymentIntent(ctx, m[1]!);
    if (pi.status !== "processing") throw invalidRequest(`PaymentIntent ${pi.id} is ${pi.status}, not processing.`, { code: "payment_intent_unexpected_state" });
    const task = deps.scheduler.take(pi.id);
    const outcome = body.outcome === "succeed" || body.outcome === "fail" ? body.outcome : body.outcome === undefined ? (task?.outcome ?? "succeed") : null;
    if (!outcome) throw invalidRequest('outcome must be "succeed" or "fail"', { param: "outcome" });
    const settled = settleProcessing(ctx, { paymentIntent: pi.id, outcome });
    onPaymentIntentSettled(ctx, settled);
    store.changed();
    return { status: 200, body: settled };
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
    // Everything the clock passed happens now, in time order, before the advance returns.
    const ran = deps.scheduler.runDue();
    return { status: 200, body: { now: clock.now(), ran } };
  }

  if (method === "POST" && (m = path.match(/^\/_emulator\/payment_intents\/([^/]+)\/authenticate$/))) {
    const outcome = body.outcome === "fail" ? "fail" : body.outcome === "succeed" ? "succeed" : null;
    if (!outcome) throw invalidRequest('outcome must be "succeed" or "fail"', { param: "outcome" });
    const pi = authenticate(deps.ctx(), m[1]!, outcome);
    store.changed();
    return { status: 200, body: pi };
  }

  const disputeControl = handleDisputeControl(deps.ctx(), method, path, body);
  if (disputeControl) {
    store.changed();
    return disputeControl;
  }

  throw invalidRequest(`Unrecognized request URL (${method}: ${path}).`, {}, 404);
}
