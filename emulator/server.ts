// The emulator's HTTP server: routes Stripe's REST paths (/v1/…) to resource modules, applies
// API-key auth and Idempotency-Key semantics, and serves the control surface (/_emulator/…).
// Resource handlers are synchronous, so one request's read-check-write never interleaves with
// another's: concurrent requests with one idempotency key execute once and replay after.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { Clock } from "./clock";
import { ApiError, invalidRequest } from "./errors";
import { Deliverer } from "./events/deliverer";
import { API_VERSION, Outbox, type RequestInfo } from "./events/outbox";
import { parseParams } from "./form";
import { newId } from "./ids";
import { Store } from "./store";
import { handleControl } from "./control";
import type { Ctx, Route } from "./resources/context";
import { customerRoutes } from "./resources/customers";
import { paymentIntentRoutes } from "./resources/payment-intents";
import { eventRoutes } from "./resources/events";

export type EmulatorOptions = {
  port?: number;
  host?: string;
  stateFile?: string | null;
  retryScheduleMs?: number[];
  deliveryTimeoutMs?: number;
  log?: boolean;
};

export type EmulatorHandle = { url: string; port: number; close(): Promise<void> };

const ROUTES: Route[] = [...customerRoutes, ...paymentIntentRoutes, ...eventRoutes];
const IDEMPOTENCY_TTL_SECONDS = 24 * 60 * 60;

export async function startEmulator(opts: EmulatorOptions = {}): Promise<EmulatorHandle> {
  const store = new Store(opts.stateFile ?? null);
  const clock = new Clock(store.state.clockOffset);
  let deliverer: Deliverer | undefined;
  const outbox = new Outbox(store, clock, () => deliverer?.kick());
  deliverer = new Deliverer(store, outbox, {
    retryScheduleMs: opts.retryScheduleMs ?? [1000, 2000, 4000, 8000, 16000],
    timeoutMs: opts.deliveryTimeoutMs ?? 5000,
    log: opts.log ?? false,
  });

  const makeCtx = (req: RequestInfo, params: Record<string, unknown>): Ctx => ({ store, clock, outbox, req, params });

  const server = http.createServer(async (req, res) => {
    const requestId = newId("req");
    const url = new URL(req.url ?? "/", "http://localhost");
    const apiVersion = (req.headers["stripe-version"] as string | undefined) ?? null;
    const send = (status: number, body: string, extra: Record<string, string> = {}) => {
      res.writeHead(status, {
        "content-type": "application/json",
        "request-id": requestId,
        "stripe-version": apiVersion ?? API_VERSION,
        ...extra,
      });
      res.end(body);
    };
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const rawBody = Buffer.concat(chunks).toString("utf8");
    const method = req.method ?? "GET";

    try {
      if (url.pathname.startsWith("/_emulator/")) {
        let body: Record<string, unknown> = {};
        if (rawBody) {
          try {
            body = JSON.parse(rawBody);
          } catch {
            throw invalidRequest("Control requests take a JSON body.");
          }
        }
        const out = await handleControl({ store, clock, outbox, deliverer: deliverer!, ctx: () => makeCtx({ id: requestId, idempotencyKey: null, apiVersion }, {}) }, method, url.pathname, url.searchParams, body);
        return send(out.status, JSON.stringify(out.body));
      }

      const auth = req.headers.authorization ?? "";
      const key = auth.startsWith("Bearer ") ? auth.slice(7) : "";
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

      const idempotencyKey = method === "POST" ? ((req.headers["idempotency-key"] as string | undefined) ?? null) : null;
      const fingerprint = `${method} ${url.pathname} ${rawBody}`;
      if (idempotencyKey) {
        const s = store.state;
        const prior = s.idempotency[idempotencyKey];
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
      }

      const route = ROUTES.find((r) => r.method === method && r.pattern.test(url.pathname));
      if (!route) throw invalidRequest(`Unrecognized request URL (${method}: ${url.pathname}). Please see https://stripe.com/docs or we can help at https://support.stripe.com/.`, {}, 404);
      const params = method === "GET" ? parseParams(url.search.slice(1)) : parseParams(rawBody);
      const ctx = makeCtx({ id: requestId, idempotencyKey, apiVersion }, params);

      let status = 200;
      let body: string;
      try {
        const out = route.handle(ctx, url.pathname.match(route.pattern)!);
        status = out.status ?? 200;
        body = JSON.stringify(out.body);
      } catch (e) {
        if (!(e instanceof ApiError)) throw e;
        status = e.status;
        body = JSON.stringify({ error: { ...e.body, request_log_url: e.body.request_log_url ?? `https://dashboard.stripe.com/test/logs/${requestId}` } });
      }
      if (idempotencyKey) {
        store.state.idempotency[idempotencyKey] = { fingerprint, status, body, created: clock.now() };
        pruneIdempotency(store, clock);
      }
      store.changed();
      return send(status, body, idempotencyKey ? { "idempotency-key": idempotencyKey } : {});
    } catch (e) {
      if (e instanceof ApiError) return send(e.status, JSON.stringify({ error: e.body }));
      console.error("[emulator] internal error", e);
      return send(500, JSON.stringify({ error: { type: "api_error", message: "An unknown error occurred in the emulator." } }));
    }
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, opts.host ?? "127.0.0.1", () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  deliverer.start();

  return {
    url: `http://${opts.host ?? "127.0.0.1"}:${port}`,
    port,
    close: async () => {
      deliverer!.stop();
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
