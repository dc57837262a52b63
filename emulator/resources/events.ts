// Events: list (newest first, filters) and retrieve.
import type Stripe from "stripe";
import { missing } from "../errors";
import { bool } from "../form";
import { ACCEPTED } from "../params";
import { listOf, type Route } from "./context";

export const eventRoutes: Route[] = [
  {
    method: "GET",
    pattern: /^\/v1\/events$/,
    accepts: ACCEPTED.eventList,
    returns: "list:event",
    handle: (ctx) => {
      const p = ctx.params;
      const s = ctx.store.state;
      let events: Stripe.Event[] = [...s.events].reverse();
      if (typeof p.type === "string") {
        const t = p.type;
        events = events.filter((e) => (t.endsWith(".*") ? e.type.startsWith(t.slice(0, -1)) : e.type === t));
      }
      if (Array.isArray(p.types)) events = events.filter((e) => (p.types as string[]).includes(e.type));
      const success = bool(p.delivery_success);
      if (success !== undefined) {
        const undelivered = new Set(s.outbox.filter((d) => d.state === "failed" || (d.state === "pending" && d.attempt > 1)).map((d) => d.eventId));
        events = events.filter((e) => undelivered.has(e.id) !== success);
      }
      const created = p.created;
      if (created && typeof created === "object") {
        const c = created as Record<string, string>;
        events = events.filter((e) => {
          const t = e.created;
          return (!c.gt || t > Number(c.gt)) && (!c.gte || t >= Number(c.gte)) && (!c.lt || t < Number(c.lt)) && (!c.lte || t <= Number(c.lte));
        });
      }
      return { body: listOf("/v1/events", events, p) };
    },
  },
  {
    method: "GET",
    pattern: /^\/v1\/events\/([^/]+)$/,
    accepts: ACCEPTED.eventRetrieve,
    returns: "event",
    handle: (ctx, m) => {
      const e = ctx.store.state.events.find((x) => x.id === m[1]);
      if (!e) throw missing("event", m[1]!);
      return { body: e };
    },
  },
];
