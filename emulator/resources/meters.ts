// Billing Meters and meter events (usage-based billing):
//   POST /v1/billing/meters                         create (event_name unique among active meters)
//   GET  /v1/billing/meters, /v1/billing/meters/:id list (status filter), retrieve
//   GET  /v1/billing/meters/:id/event_summaries     the customer's aggregated value in a window
//   POST /v1/billing/meter_events                   record usage
// Meter events as Stripe validates them: an active meter for event_name, the payload's customer
// key (customer_mapping.event_payload_key) naming a customer and its value key a whole number,
// a timestamp within the past 35 days and at most 5 minutes ahead (on the customer's clock: its
// test clock's frozen time, else the emulator clock), and an identifier not seen in the last 24 h:
// a second event with it is refused with 400 "An event already exists with identifier …" (a
// request retried with the same Idempotency-Key is replayed before it gets here, as at Stripe).
// The emulator validates all of it synchronously; real Stripe reports some problems (no meter,
// unknown customer) asynchronously. Events are summed per customer and meter over a subscription
// period for the metered line of its renewal invoice (billing/metering.ts).
import type Stripe from "stripe";
import { invalidRequest, missing, parameterMissing } from "../errors";
import { int, str } from "../form";
import { newId } from "../ids";
import type { Json, Store } from "../store";
import { BILLING_ACCEPTED } from "../billing/params";
import { jsonItems, nowIn } from "../billing/env";
import { listOf, type Ctx, type Route } from "./context";
import type { Wire } from "./wire";

export const METER_EVENT_MAX_AGE = 35 * 24 * 60 * 60;
export const METER_EVENT_MAX_AHEAD = 5 * 60;
const IDENTIFIER_TTL = 24 * 60 * 60;

export function getMeter(ctx: Pick<Ctx, "store">, id: string, param = "id"): Json {
  const m = ctx.store.state.meters[id];
  if (!m) throw missing("billing.meter", id, param);
  return m;
}

function activeMeterFor(store: Store, eventName: string): Json | undefined {
  return Object.values(store.state.meters).find((m) => m.event_name === eventName && m.status === "active");
}

function createMeter(ctx: Ctx): Json {
  const p = ctx.params;
  const displayName = str(p.display_name);
  if (!displayName) throw parameterMissing("display_name");
  const eventName = str(p.event_name);
  if (!eventName) throw parameterMissing("event_name");
  if (eventName.length > 100) throw invalidRequest("event_name must be at most 100 characters.", { param: "event_name" });
  const formula = str((p.default_aggregation as Json | undefined)?.formula);
  if (!formula) throw parameterMissing("default_aggregation[formula]");
  if (!["sum", "count", "last"].includes(formula)) throw invalidRequest(`Invalid default_aggregation[formula]: must be one of count, last, or sum`, { param: "default_aggregation[formula]" });
  if (activeMeterFor(ctx.store, eventName)) throw invalidRequest(`An active meter with event_name \`${eventName}\` already exists.`, { param: "event_name" });
  const mapping = p.customer_mapping as Json | undefined;
  if (mapping && str(mapping.type) !== "by_id") throw invalidRequest("Invalid customer_mapping[type]: must be by_id", { param: "customer_mapping[type]" });
  const window = str(p.event_time_window);
  const now = ctx.clock.now();
  const meter = {
    id: newId("mtr"),
    object: "billing.meter",
    created: now,
    customer_mapping: { event_payload_key: str(mapping?.event_payload_key) ?? "stripe_customer_id", type: "by_id" },
    default_aggregation: { formula },
    display_name: displayName,
    event_name: eventName,
    event_time_window: window ?? null,
    livemode: false,
    status: "active",
    status_transitions: { deactivated_at: null },
    updated: now,
    value_settings: { event_payload_key: str((p.value_settings as Json | undefined)?.event_payload_key) ?? "value" },
  } satisfies Wire<Stripe.Billing.Meter>;
  ctx.store.state.meters[meter.id] = meter;
  ctx.store.wrote();
  return meter;
}

function createMeterEvent(ctx: Ctx): Json {
  const p = ctx.params;
  const eventName = str(p.event_name);
  if (!eventName) throw parameterMissing("event_name");
  if (p.payload === undefined || typeof p.payload !== "object" || p.payload === null) throw parameterMissing("payload");
  const payload = p.payload as Record<string, unknown>;
  const meter = activeMeterFor(ctx.store, eventName);
  if (!meter) throw invalidRequest(`No active meter was found with event_name \`${eventName}\`.`, { param: "event_name" });
  const customerKey = (meter.customer_mapping as Json).event_payload_key as string;
  const valueKey = (meter.value_settings as Json).event_payload_key as string;
  const customerId = str(payload[customerKey]);
  if (!customerId) throw parameterMissing(`payload[${customerKey}]`);
  const customer = ctx.store.state.customers[customerId];
  if (!customer) throw missing("customer", customerId, `payload[${customerKey}]`, 400);
  const rawValue = payload[valueKey];
  const value = rawValue === undefined ? 1 : int(rawValue);
  if (value === undefined || Number.isNaN(value) || value < 0) {
    throw invalidRequest(`Invalid payload[${valueKey}]: must be a non-negative whole number.`, { param: `payload[${valueKey}]` });
  }
  const now = nowIn(ctx.store, ctx.clock, customer.test_clock as string | null);
  const timestamp = p.timestamp === undefined ? now : int(p.timestamp);
  if (timestamp === undefined || Number.isNaN(timestamp)) throw invalidRequest(`Invalid timestamp: must be an integer Unix timestamp.`, { param: "timestamp" });
  if (timestamp < now - METER_EVENT_MAX_AGE) throw invalidRequest("Timestamp must be within the past 35 calendar days.", { param: "timestamp" });
  if (timestamp > now + METER_EVENT_MAX_AHEAD) throw invalidRequest("Timestamp must not be more than 5 minutes in the future.", { param: "timestamp" });
  const identifier = str(p.identifier) ?? newId("mevt");
  if (identifier.length > 100) throw invalidRequest("identifier must be at most 100 characters.", { param: "identifier" });
  const created = ctx.clock.now();
  const seen = ctx.store.state.meterEvents.find((e) => e.identifier === identifier && created - e.created < IDENTIFIER_TTL);
  if (seen) throw invalidRequest(`An event already exists with identifier ${identifier}.`, { param: "identifier" });
  ctx.store.state.meterEvents.push({ identifier, eventName, meter: meter.id as string, customer: customerId, value, timestamp, created });
  ctx.store.wrote();
  return {
    object: "billing.meter_event",
    created,
    event_name: eventName,
    identifier,
    livemode: false,
    payload: Object.fromEntries(Object.entries(payload).map(([k, v]) => [k, String(v)])),
    timestamp,
  } satisfies Wire<Stripe.Billing.MeterEvent>;
}

/** The meter's aggregate of a customer's events with timestamps in [start, end). */
export function meterAggregate(store: Store, meterId: string, customer: string, start: number, end: number): number {
  const meter = store.state.meters[meterId];
  if (!meter) return 0;
  const events = store.state.meterEvents.filter((e) => e.meter === meterId && e.customer === customer && e.timestamp >= start && e.timestamp < end);
  const formula = (meter.default_aggregation as Json).formula;
  if (formula === "count") return events.length;
  if (formula === "last") return events.length ? events.reduce((a, b) => (b.timestamp >= a.timestamp ? b : a)).value : 0;
  return events.reduce((s, e) => s + e.value, 0);
}

function eventSummaries(ctx: Ctx, meterId: string): Json {
  const meter = getMeter(ctx, meterId);
  const p = ctx.params;
  const customer = str(p.customer);
  if (!customer) throw parameterMissing("customer");
  const start = int(p.start_time);
  const end = int(p.end_time);
  if (start === undefined) throw parameterMissing("start_time");
  if (end === undefined) throw parameterMissing("end_time");
  if (Number.isNaN(start) || Number.isNaN(end) || end <= start) throw invalidRequest("end_time must be after start_time.", { param: "end_time" });
  const summary = {
    id: newId("mtrusg"),
    object: "billing.meter_event_summary",
    aggregated_value: meterAggregate(ctx.store, meter.id as string, customer, start, end),
    end_time: end,
    livemode: false,
    meter: meter.id as string,
    start_time: start,
  } satisfies Wire<Stripe.Billing.MeterEventSummary>;
  return listOf(`/v1/billing/meters/${meter.id}/event_summaries`, [summary], p);
}

export const meterRoutes: Route[] = [
  { method: "POST", pattern: /^\/v1\/billing\/meters$/, accepts: BILLING_ACCEPTED.meterCreate, returns: "billing.meter", handle: (ctx) => ({ body: createMeter(ctx) }) },
  { method: "GET", pattern: /^\/v1\/billing\/meters\/([^/]+)$/, accepts: BILLING_ACCEPTED.meterRetrieve, returns: "billing.meter", handle: (ctx, m) => ({ body: getMeter(ctx, m[1]!) }) },
  {
    method: "GET",
    pattern: /^\/v1\/billing\/meters$/,
    accepts: BILLING_ACCEPTED.meterList,
    returns: "list:billing.meter",
    handle: (ctx) => {
      let all = Object.values(ctx.store.state.meters).reverse();
      if (typeof ctx.params.status === "string") all = all.filter((m) => m.status === ctx.params.status);
      return { body: listOf("/v1/billing/meters", jsonItems(all), ctx.params) };
    },
  },
  {
    method: "GET",
    pattern: /^\/v1\/billing\/meters\/([^/]+)\/event_summaries$/,
    accepts: BILLING_ACCEPTED.meterEventSummaries,
    returns: "list:billing.meter_event_summary",
    handle: (ctx, m) => ({ body: eventSummaries(ctx, m[1]!) }),
  },
  { method: "POST", pattern: /^\/v1\/billing\/meter_events$/, accepts: BILLING_ACCEPTED.meterEventCreate, returns: "billing.meter_event", handle: (ctx) => ({ body: createMeterEvent(ctx) }) },
];
