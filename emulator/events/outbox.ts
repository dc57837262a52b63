// Every state change becomes an event (a snapshot of the object at that moment) in the durable
// outbox, with one pending delivery per registered endpoint (more under the duplicate chaos).
import type { Clock } from "../clock";
import { newId } from "../ids";
import type { Json, Store } from "../store";

export const API_VERSION = "2026-10-28.endive";

export type RequestInfo = { id: string; idempotencyKey: string | null; apiVersion: string | null };

export class Outbox {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly kick: () => void,
  ) {}

  emit(type: string, object: Json, req: RequestInfo | null, previous?: Json): Json {
    const s = this.store.state;
    const event: Json = {
      id: newId("evt"),
      object: "event",
      api_version: req?.apiVersion ?? API_VERSION,
      created: this.clock.now(),
      data: previous ? { object: structuredClone(object), previous_attributes: previous } : { object: structuredClone(object) },
      livemode: false,
      pending_webhooks: 0,
      request: { id: req?.id ?? null, idempotency_key: req?.idempotencyKey ?? null },
      type,
    };
    s.events.push(event);
    this.enqueue(event);
    this.store.changed();
    return event;
  }

  /** Queues deliveries of an event to every endpoint (used for new events and resends). */
  enqueue(event: Json): void {
    const s = this.store.state;
    const copies = 1 + Math.max(0, s.chaos.duplicate);
    for (const ep of s.endpoints) {
      for (let i = 0; i < copies; i++) {
        s.outbox.push({ id: newId("wd"), eventId: event.id as string, endpointId: ep.id, attempt: 1, dueAt: Date.now() + s.chaos.delayMs, state: "pending" });
      }
    }
    this.refreshPending(event.id as string);
    this.store.changed();
    this.kick();
  }

  refreshPending(eventId: string): void {
    const s = this.store.state;
    const event = s.events.find((e) => e.id === eventId);
    if (!event) return;
    const endpoints = new Set(s.outbox.filter((d) => d.eventId === eventId && d.state === "pending").map((d) => d.endpointId));
    event.pending_webhooks = endpoints.size;
  }
}
