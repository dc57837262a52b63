// The emulator's HTTP server: routes Stripe's REST paths (/v1/…) to resource modules, applies
// API-key auth, `expand[]` and Idempotency-Key semantics, and serves the control surface
// (/_emulator/…).
//
// Idempotency, as Stripe does it: a POST with a key takes the key while it runs; another request
// with that key meanwhile gets 409, code idempotency_key_in_use (the SDK retries 409s by itself with
// the same key). A finished request's response is stored for 24 h and replayed for the same
// parameters (400 idempotency_error for different ones) — unless it was refused before doing
// anything (a validation error: nothing written), which is not stored, so a corrected retry
// with the same key runs. Errors after a side effect (a 402 decline) are stored and replayed.
// Resource handlers are synchronous; a request is "in flight" only while the latency switch
// (control surface) holds it, which is how tests make the race deterministic.
import http from "node:http";
import type { AddressInfo } from "node:net";
import Stripe from "stripe";
import { Clock } from "./clock";
import { handleControl, takeFault, type Fault } from "./control";
import { ApiError, idempotencyKeyInUse, invalidRequest } from "./errors";
import { Deliverer } from "./events/deliverer";
import { Outbox, type RequestInfo } from "./events/outbox";
import { applyExpand, validateExpand } from "./expand";
import { parseParams, type Params } from "./form";
import { newId } from "./ids";
import type { Ctx, Route } from "./resources/context";
import { customerRoutes } from "./resources/customers";
import { eventRoutes } from "./resources/events";
import { paymentIntentRoutes, settleProcessing } from "./resources/payment-intents";
import { checkParams } from "./params";
import { paymentMethodRoutes } from "./resources/payment-methods";
import { refundRoutes } from "./resources/refunds";
import { disputeRoutes } from "./resources/disputes";
import { setupIntentRoutes } from "./resources/setup-intents";
import { Scheduler } from "./scheduler";
import { Store, type LatencyRule } from "./store";
import { productRoutes } from "./resources/products";
import { priceRoutes } from "./resources/prices";
import { subscriptionRoutes } from "./resources/subscriptions";
import { invoiceRoutes } from "./resources/invoices";
import { testClockRoutes } from "./resources/test-clocks";
import { billingPortalRoutes, handleBillingPages } from "./resources/billing-portal";
import { paymentMethodAttachRoutes } from "./resources/payment-method-attach";
import { subscriptionScheduleRoutes } from "./resources/subscription-schedules";
import { meterRoutes } from "./resources/meters";
import { checkoutSessionRoutes, handleCheckoutPages, onPaymentIntentSettled } from "./resources/checkout-sessions";
import { setPublicUrl } from "./billing/env";
import { tick as billingTick } from "./billing/scheduler";

export type EmulatorOptions = {
  port?: number;
  host?: string;
  stateFile?: string | null;
  retryScheduleMs?: number[];
  deliveryTimeoutMs?: number;
  log?: boolean;
  /** The account's default API version (events carry it). Defaults to the installed SDK's. */
  apiVersion?: string;
};

export type EmulatorHandle = { url: string; port: number; close(): Promise<void> };

const ROUTES: Route[] = [
  ...customerRoutes,
  ...paymentIntentRoutes,
  ...paymentMethodRoutes,
  ...eventRoutes,
  // Billing (emulator/billing/): catalogue, subscriptions, invoices, test clocks, portal.
  ...paymentMethodAttachRoutes,
  ...productRoutes,
  ...priceRoutes,
  ...subscriptionRoutes,
  ...subscriptionScheduleRoutes,
  ...invoiceRoutes,
  ...testClockRoutes,
  ...billingPortalRoutes,
  // Refunds and disputes (emulator/resources/refunds.ts, disputes.ts).
  ...refundRoutes,
  ...disputeRoutes,
  // Saving cards for off-session payments (resources/setup-intents.ts).
  ...setupIntentRoutes,
  // Checkout Sessions and their hosted page (emulator/resources/checkout-sessions.ts).
  ...checkoutSessionRoutes,
  // Billing Meters and meter events (emulator/resources/meters.ts).
  ...meterRoutes,
];
const IDEMPOTENCY_TTL_SECONDS = 24 * 60 * 60;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The first latency rule matching this request in this phase (counting down its `times`). */
function takeLatency(rules: LatencyRule[], method: string, path: string, phase: LatencyRule["phase"]): number {
  const i = rules.findIndex((r) => r.phase === phase && (!r.method || r.method === method) && (!r.path || new RegExp(r.path).test(path)));
  if (i < 0) return 0;
  const rule = rules[i]!;
  if (rule.times !== null) {
    rule.times -= 1;
    if (rule.times <= 0) rules.splice(i, 1);
  }
  return rule.delayMs;
}

export async function startEmulator(opts: EmulatorOptions = {}): Promise<EmulatorHandle> {
  const store = new Store(opts.stateFile ?? null, opts.apiVersion ?? Stripe.API_VERSION);
  if (opts.apiVersion) store.state.apiVersion = opts.apiVersion;
  const clock = new Clock(store.state.clockOffset);
  const scheduler = new Scheduler(store, clock);
  // Declared before the outbox whose callback kicks it, assigned right after (no TDZ on a kick).
  // eslint-disable-next-line prefer-const
  let deliverer: Deliverer | undefined;
  const outbox = new Outbox(store, clock, () => deliverer?.kick());
  deliverer = new Deliverer(store, outbox, {
    retryScheduleMs: opts.retryScheduleMs ?? [1000, 2000, 4000, 8000, 16000],
    timeoutMs: opts.deliveryTimeoutMs ?? 5000,
    log: opts.log ?? false,
  });
  /** Idempotency keys of requests running now. */
  const inFlight = new Set<string>();

  const faults: Fault[] = [];
  const makeCtx = (req: RequestInfo | null, params: Params): Ctx => ({ store, clock, outbox, scheduler, req, params });

  const server = http.createServer(async (req, res) => {
    const requestId = newId("req");
    const url = new URL(req.url ?? "/", "http://localhost");
    const apiVersion = (req.headers["stripe-version"] as string | undefined) ?? null;
    const send = (status: number, body: string, extra: Record<string, string> = {}) => {
      res.writeHead(status, {
        "content-type": "application/json",
        "request-id": requestId,
        "stripe-version": apiVersion ?? store.state.apiVersion,
        ...extra,
      });
      res.end(body);
    };
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const rawBody = Buffer.concat(chunks).toString("utf8");
    const method = req.method ?? "GET";
    let heldKey: string | null = null;

    const billing = { store, clock, outbox, scheduler };
    try {
      // Billing pages (portal, hosted invoices) and billing settings; then what fell due.
      const billingPage = handleBillingPages(billing, method, url.pathname, url.search.slice(1), rawBody) ?? handleCheckoutPages(billing, method, url.pathname, rawBody);
      if (billingPage) {
        billingTick(billing);
        res.writeHead(billingPage.status, { "request-id": requestId, ...billingPage.headers });
        return res.end(billingPage.body);
      }
      if (url.pathname.startsWith("/_emulator/")) {
        let body: Record<string, unknown> = {};
        if (rawBody) {
          try {
            body = JSON.parse(rawBody);
          } catch {
            throw invalidRequest("Control requests take a JSON body.");
          }
        }
        const out = await handleControl(
          { store, clock, outbox, scheduler, deliverer: deliverer!, faults, ctx: () => makeCtx(null, {}) },
          method,
          url.pathname,
          url.searchParams,
          body,
        );
        billingTick(billing); // e.g. after /_emulator/clock/advance: renewals, retries, …
        return send(out.status, JSON.stringify(out.body));
      }

      // Bearer (the SDKs) or Basic with the key as user name (curl -u sk_test_…:), as Stripe takes.
      const auth = req.headers.authorization ?? "";
      const key = auth.startsWith("Bearer ")
        ? auth.slice(7)
        : auth.startsWith("Basic ")
          ? Buffer.from(auth.slice(6), "base64").toString("utf8").split(":")[0]!
          : "";
      if (!/^(sk|rk)_test_/.test(key)) {
        return send(
          401,
          JSON.stringify({
            error: {
              type: "invalid_request_error",
              message: key ? `Invalid API Key provided: ${key.slice(0, 8)}${"*".repeat(Math.max(0, key.length - 12))}${key.slice(-4)}` : "You did not provide an API key.",
            },
          }),
        );
      }

      const fault = takeFault(faults, method, url.pathname);
      if (fault) return send(fault.status, JSON.stringify({ error: { type: "api_error", message: `Injected fault (${fault.status}) for ${method} ${url.pathname}.` } }));

      const idempotencyKey = method === "POST" ? ((req.headers["idempotency-key"] as string | undefined) ?? null) : null;
      const fingerprint = `${method} ${url.pathname} ${rawBody}`;
      if (idempotencyKey) {
        if (inFlight.has(idempotencyKey)) throw idempotencyKeyInUse(idempotencyKey);
        const prior = store.state.idempotency[idempotencyKey];
        if (prior && clock.now() - prior.created < IDEMPOTENCY_TTL_SECONDS) {
          if (prior.fingerprint !== fingerprint) {
            return send(
              400,
              JSON.stringify({
                error: {
                  type: "idempotency_error",
                  message: `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${idempotencyKey}' if you meant to execute a different request.`,
                },
              }),
            );
          }
          return send(prior.status, prior.body, { "idempotent-replayed": "true", "idempotency-key": idempotencyKey });
        }
        inFlight.add(idempotencyKey);
        heldKey = idempotencyKey;
      }

      const holdBefore = takeLatency(store.state.latency, method, url.pathname, "before");
      if (holdBefore) await sleep(holdBefore);

      const route = ROUTES.find((r) => r.method === method && r.pattern.test(url.pathname));
      if (!route) throw invalidRequest(`Unrecognized request URL (${method}: ${url.pathname}). Please see https://stripe.com/docs or we can help at https://support.stripe.com/.`, {}, 404);
      const params = method === "GET" ? parseParams(url.search.slice(1)) : parseParams(rawBody);
      checkParams(params, route.accepts);
      validateExpand(route.returns, params.expand);
      const ctx = makeCtx({ id: requestId, idempotencyKey, apiVersion }, params);

      let status = 200;
      let body: string;
      const writesBefore = store.writes;
      try {
        const out = route.handle(ctx, url.pathname.match(route.pattern)!);
        status = out.status ?? 200;
        // Expanded on a copy: stored objects keep ids.
        const copy: unknown = JSON.parse(JSON.stringify(out.body));
        applyExpand(store.state, copy, params.expand);
        body = JSON.stringify(copy);
      } catch (e) {
        if (!(e instanceof ApiError)) throw e;
        status = e.status;
        body = JSON.stringify({ error: { ...e.body, request_log_url: e.body.request_log_url ?? `https://dashboard.stripe.com/test/logs/${requestId}` } });
      }
      const executed = status < 400 || store.writes > writesBefore;
      if (idempotencyKey && executed) {
        store.state.idempotency[idempotencyKey] = { fingerprint, status, body, created: clock.now() };
        pruneIdempotency(store, clock);
      }
      // After the request (and its idempotency record): settle invoices whose PaymentIntent it paid or declined.
      billingTick(billing);
      if (heldKey) {
        inFlight.delete(heldKey);
        heldKey = null;
      }
      store.changed();
      const holdAfter = takeLatency(store.state.latency, method, url.pathname, "after");
      if (holdAfter) await sleep(holdAfter);
      return send(status, body, idempotencyKey ? { "idempotency-key": idempotencyKey } : {});
    } catch (e) {
      if (e instanceof ApiError) return send(e.status, JSON.stringify({ error: { ...e.body, request_log_url: `https://dashboard.stripe.com/test/logs/${requestId}` } }));
      console.error("[emulator] internal error", e);
      return send(500, JSON.stringify({ error: { type: "api_error", message: "An unknown error occurred in the emulator." } }));
    } finally {
      if (heldKey) inFlight.delete(heldKey);
    }
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, opts.host ?? "127.0.0.1", () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  deliverer.start();
  setPublicUrl(store, `http://${opts.host ?? "127.0.0.1"}:${port}`);
  const billingTimer = setInterval(() => {
    try {
      billingTick({ store, clock, outbox, scheduler });
    } catch (e) {
      console.error("[emulator] billing tick failed", e);
    }
  }, 1000);
  const billing = () => ({ store, clock, outbox, scheduler });
  scheduler.start((task) => {
    if (task.kind === "settle_processing") onPaymentIntentSettled(billing(), settleProcessing(makeCtx(null, {}), task));
  });

  return {
    url: `http://${opts.host ?? "127.0.0.1"}:${port}`,
    port,
    close: async () => {
      clearInterval(billingTimer);
      deliverer!.stop();
      scheduler.stop();
      await new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      });
      store.state.clockOffset = clock.offsetSeconds;
      store.flush();
    },
  };
}

function pruneIdempotency(store: Store, clock: Clock) {
  const s = store.state;
  const keys = Object.keys(s.idempotency);
  if (keys.length < 5000) return;
  for (const k of keys) if (clock.now() - s.idempotency[k]!.created >= IDEMPOTENCY_TTL_SECONDS) delete s.idempotency[k];
}
