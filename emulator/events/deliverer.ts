// Posts queued events to their endpoints, signed like Stripe (Stripe-Signature: t=…,v1=HMAC-
// SHA256(secret, "t.body")). 2xx is delivered; anything else, a connection error or a timeout is
// retried after the next step of the retry schedule, and given up after the last. Under the
// reorder chaos, each batch of due deliveries goes out in reverse order. Each delivery carries
// the endpoint's api_version when it has one, else the event's (the account's default).
import { createHmac } from "node:crypto";
import type { Delivery, Store } from "../store";
import type { Outbox } from "./outbox";

export function signatureHeader(payload: string, secret: string, timestamp = Math.floor(Date.now() / 1000)): string {
  const v1 = createHmac("sha256", secret).update(`${timestamp}.${payload}`, "utf8").digest("hex");
  return `t=${timestamp},v1=${v1}`;
}

export class Deliverer {
  private timer: NodeJS.Timeout | undefined;
  private inFlight = new Set<string>();
  private stopped = false;

  constructor(
    private readonly store: Store,
    private readonly outbox: Outbox,
    private readonly opts: { retryScheduleMs: number[]; timeoutMs: number; log: boolean },
  ) {}

  start(): void {
    this.stopped = false;
    this.schedule(0);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Something was queued: look again soon. */
  kick(): void {
    this.schedule(0);
  }

  pendingCount(): number {
    return this.store.state.outbox.filter((d) => d.state === "pending").length;
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => this.tick(), ms);
  }

  private tick(): void {
    this.timer = undefined;
    const now = Date.now();
    const pending = this.store.state.outbox.filter((d) => d.state === "pending" && !this.inFlight.has(d.id));
    let due = pending.filter((d) => d.dueAt <= now);
    if (this.store.state.chaos.reorder) due = due.reverse();
    for (const d of due) void this.send(d);
    const next = pending.filter((d) => d.dueAt > now).reduce((m, d) => Math.min(m, d.dueAt), Infinity);
    if (next !== Infinity) this.schedule(Math.max(5, next - now));
  }

  private async send(d: Delivery): Promise<void> {
    const s = this.store.state;
    const endpoint = s.endpoints.find((e) => e.id === d.endpointId);
    const event = s.events.find((e) => e.id === d.eventId);
    if (!endpoint || !event) {
      d.state = "failed";
      return;
    }
    this.inFlight.add(d.id);
    // An endpoint pinned to an API version gets its events labelled with it (the shapes are the
    // emulator's one shape; it renders no other version).
    const payload = JSON.stringify({ ...event, api_version: endpoint.api_version ?? event.api_version, pending_webhooks: Math.max(1, event.pending_webhooks) }, null, 2);
    let status: number | null = null;
    let error: string | undefined;
    try {
      const res = await fetch(endpoint.url, {
        method: "POST",
        headers: {
          "content-type": "application/json; charset=utf-8",
          "user-agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
          "stripe-signature": signatureHeader(payload, endpoint.secret),
        },
        body: payload,
        redirect: "manual",
        signal: AbortSignal.timeout(this.opts.timeoutMs),
      });
      status = res.status;
      await res.arrayBuffer().catch(() => undefined);
    } catch (e) {
      error = e instanceof Error ? e.message : String(e);
    } finally {
      this.inFlight.delete(d.id);
    }
    if (this.stopped && status === null) return; // shutting down: keep it pending for the next start
    const ok = status !== null && status >= 200 && status < 300;
    s.attempts.push({ event_id: d.eventId, event_type: event.type, endpoint_id: d.endpointId, attempt: d.attempt, status, ok, error, at: Date.now() });
    if (s.attempts.length > 5000) s.attempts.splice(0, s.attempts.length - 5000);
    if (ok) {
      d.state = "delivered";
    } else {
      const delay = this.opts.retryScheduleMs[d.attempt - 1];
      if (delay === undefined) d.state = "failed";
      else {
        d.attempt += 1;
        d.dueAt = Date.now() + delay;
      }
    }
    if (this.opts.log) console.log(`[emulator] ${event.type} ${d.eventId} → ${endpoint.url} attempt ${ok ? d.attempt : d.attempt - 1}: ${status ?? error}`);
    this.outbox.refreshPending(d.eventId);
    // Keep the outbox small: finished deliveries are history (attempts keep the log).
    if (s.outbox.length > 2000) s.outbox = s.outbox.filter((x) => x.state === "pending");
    this.store.changed();
    this.schedule(0);
  }
}
