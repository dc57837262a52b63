// What every resource handler gets: the store, the clock, the outbox, the scheduler, and this
// request (null when the emulator's clock drives a change: Stripe's automatic transitions).
import type { Clock } from "../clock";
import type { Outbox, RequestInfo } from "../events/outbox";
import type { Params } from "../form";
import type { Scheduler } from "../scheduler";
import type { Store } from "../store";

export type Ctx = {
  store: Store;
  clock: Clock;
  outbox: Outbox;
  scheduler: Scheduler;
  req: RequestInfo | null;
  params: Params;
};

export type Route = {
  method: "GET" | "POST" | "DELETE";
  pattern: RegExp;
  /** The top-level parameters Stripe accepts here (params.ts); others are parameter_unknown. */
  accepts: ReadonlySet<string>;
  /** What it answers, for expand[] checks before it runs: an object type or "list:<type>". */
  returns: string;
  handle: (ctx: Ctx, match: RegExpMatchArray) => { status?: number; body: unknown };
};

/** Stripe's list envelope with limit / starting_after / ending_before over newest-first items. */
export function listOf<T extends { id: string }>(url: string, newestFirst: T[], params: Params): { object: "list"; data: T[]; has_more: boolean; url: string } {
  const rawLimit = params.limit === undefined ? 10 : Number(params.limit);
  const limit = Number.isInteger(rawLimit) ? Math.min(Math.max(rawLimit, 1), 100) : 10;
  let items = newestFirst;
  if (typeof params.starting_after === "string") {
    const i = items.findIndex((x) => x.id === params.starting_after);
    items = i >= 0 ? items.slice(i + 1) : [];
  } else if (typeof params.ending_before === "string") {
    const i = items.findIndex((x) => x.id === params.ending_before);
    items = i >= 0 ? items.slice(Math.max(0, i - limit), i) : [];
    return { object: "list", data: items, has_more: false, url };
  }
  return { object: "list", data: items.slice(0, limit), has_more: items.length > limit, url };
}
