// Every state change becomes an event (a snapshot of the object at that moment) in the durable
// outbox, with one pending delivery per registered endpoint (more under the duplicate chaos).
// Events carry the account's API version (State.apiVersion), never the Stripe-Version of the
// request that caused them, as with Stripe; an endpoint with its own api_version gets its
// deliveries labelled with that version (see deliverer.ts).
import type Stripe from "stripe";
import type { Clock } from "../clock";
import { newId } from "../ids";
import type { Store } from "../store";

/** The request that caused an event (null for the emulator's own clock: automatic transitions). */
export type RequestInfo = { id: string; idempotencyKey: string | null; apiVersion: string | null };

export type EventType = Stripe.Event["type"];
export type EventOf<T extends EventType> = Extract<Stripe.Event, { type: T }>;
export type EventObject<T extends EventType> = EventOf<T>["data"]["object"];

export class Outbox {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly kick: () => void,
  ) {}

  emit<T extends EventType>(type: T, object: EventObject<T>, req: RequestInfo | null, previous?: Partial<EventObject<T>>): EventOf<T> {
    const s = this.store.state;
    const data = previous ? { object: structuredClone(object), previous_attributes: previous } : { object: structuredClone(object) };
    const event = {
      id: newId("evt"),
      object: "event",
      api_version: s.apiVersion,
      created: this.clock.now(),
      data,
      livemode: false,
      pending_webhooks: 0,
      request: { id: req?.id ?? null, idempotency_key: req?.idempotencyKey ?? null },
      type,
    } satisfies Stripe.EventBase & { type: T } as unknown as EventOf<T>;
    s.events.push(event);
    this.store.wrote();
    this.enqueue(event);
    return event;
  }

  /** Queues deliveries of an event to every endpoint (used for new events and resends). */
  enqueue(event: Stripe.Event): void {
    const s = this.store.state;
    const copies = 1 + Math.max(0, s.chaos.duplicate);
    for (const ep of s.endpoints) {
      for (let i = 0; i < copies; i++) {
        s.outbox.push({ id: newId("wd"), eventId: event.id, endpointId: ep.id, attempt: 1, dueAt: Date.now() + s.chaos.delayMs, state: "pending" });
      }
    }
    this.refreshPending(event.id);
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
