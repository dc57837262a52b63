// Pure rules of metered overage (no I/O; tested in rules.test.ts).
//   splitDelivery   what a delivery takes from the balance and what goes to overage
//   meterEventTime  the timestamp a batch's meter event carries (inside the usage's period)
//   groupForBatches which unbatched usage records go into one meter event
//   meteringConfig  METER_PUSH_EVERY_MINUTES / METER_PUSH_UNITS, validated

export type DeliverySplit = { debit: number; overage: number };

/**
 * A delivery of `cost` credits against `balance`, for an organisation whose plan allows overage:
 * the balance pays what it can (down to zero, never below) and the rest is overage. A negative
 * balance (a refund or dispute took credits back) pays nothing and gets no overage either
 * (null: refused as without overage), so a clawback cannot be run up further on an invoice.
 * A balance that covers the cost is not overage at all (null as well: debit it normally).
 */
export function splitDelivery(balance: number, cost: number): DeliverySplit | null {
  if (!Number.isSafeInteger(balance) || !Number.isSafeInteger(cost) || cost <= 0) throw new RangeError("balance and cost must be integers, cost > 0");
  if (balance < 0 || balance >= cost) return null;
  return { debit: balance, overage: cost - balance };
}

/** Which subscriptions may run into overage: live and paid up (not trialing, past due, unpaid or paused). */
export function subscriptionAllowsOverage(status: string): boolean {
  return status === "active";
}

/** Stripe refuses meter events older than this (and more than 5 minutes ahead). */
export const METER_EVENT_MAX_AGE_SECONDS = 35 * 24 * 60 * 60;

/**
 * The meter event's timestamp for usage recorded at `recordedAt` in the period [start, end):
 * the latest record's time, kept inside the period so that the usage lands on that period's
 * invoice whatever the clocks say (Stripe sums events by timestamp per period; its invoice for a
 * period stays open for usage for an hour after the period ends).
 */
export function meterEventTime(latestRecordedAt: Date, periodStart: Date, periodEnd: Date): Date {
  const t = Math.floor(latestRecordedAt.getTime() / 1000);
  const lo = Math.ceil(periodStart.getTime() / 1000);
  const hi = Math.floor(periodEnd.getTime() / 1000) - 1;
  return new Date(Math.min(Math.max(t, lo), Math.max(lo, hi)) * 1000);
}

export type UnbatchedUsage = { id: string; orgId: string; stripeCustomerId: string; periodStart: Date; periodEnd: Date; credits: number; recordedAt: Date };
export type PlannedBatch = { orgId: string; stripeCustomerId: string; credits: number; eventAt: Date; recordIds: string[] };

/**
 * Usage of a period batched this long after the period's end missed that period's invoice (Stripe
 * keeps the renewal draft open for usage for an hour; we leave a margin): it is stamped "now"
 * instead, so it lands on the next invoice rather than nowhere. Only after an outage longer than
 * that; the periodic push (every few minutes) normally reports a period's usage within it.
 */
export const LATE_AFTER_SECONDS = 45 * 60;

/** One batch per (customer, period): a meter event belongs to one customer and one invoice. */
export function groupForBatches(records: UnbatchedUsage[], now: Date = new Date()): PlannedBatch[] {
  const groups = new Map<string, { first: UnbatchedUsage; latest: Date; credits: number; ids: string[] }>();
  for (const r of records) {
    const key = `${r.stripeCustomerId}|${r.periodStart.toISOString()}|${r.periodEnd.toISOString()}`;
    const g = groups.get(key);
    if (!g) groups.set(key, { first: r, latest: r.recordedAt, credits: r.credits, ids: [r.id] });
    else {
      g.credits += r.credits;
      g.ids.push(r.id);
      if (r.recordedAt > g.latest) g.latest = r.recordedAt;
    }
  }
  return [...groups.values()].map((g) => ({
    orgId: g.first.orgId,
    stripeCustomerId: g.first.stripeCustomerId,
    credits: g.credits,
    eventAt:
      now.getTime() >= g.first.periodEnd.getTime() + LATE_AFTER_SECONDS * 1000
        ? new Date(Math.floor(now.getTime() / 1000) * 1000)
        : meterEventTime(g.latest, g.first.periodStart, g.first.periodEnd),
    recordIds: g.ids,
  }));
}

export type MeteringConfig = { pushEveryMinutes: number; pushUnits: number };
export const METERING_DEFAULTS: MeteringConfig = { pushEveryMinutes: 5, pushUnits: 1000 };

/**
 * METER_PUSH_EVERY_MINUTES (1–59, default 5: well inside Stripe's one-hour window for late usage
 * of an ended period) and METER_PUSH_UNITS (≥ 1, default 1000: push at once when that many
 * overage credits wait). A malformed value is an error naming the variable.
 */
export function meteringConfig(env: Record<string, string | undefined> = process.env): MeteringConfig {
  const read = (name: string, fallback: number, min: number, max: number) => {
    const raw = env[name];
    if (raw === undefined || raw === "") return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min || n > max) throw new Error(`Invalid environment: ${name} must be an integer from ${min} to ${max}`);
    return n;
  };
  return {
    pushEveryMinutes: read("METER_PUSH_EVERY_MINUTES", METERING_DEFAULTS.pushEveryMinutes, 1, 59),
    pushUnits: read("METER_PUSH_UNITS", METERING_DEFAULTS.pushUnits, 1, 1_000_000_000),
  };
}

/** The cron of the periodic push. */
export function pushCron(config: MeteringConfig): string {
  return `*/${config.pushEveryMinutes} * * * *`;
}
