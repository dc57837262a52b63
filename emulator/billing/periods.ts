// Billing periods as Stripe counts them: calendar months/years from the billing cycle anchor, in
// UTC, a day of month past the month's end clamped to its last day (anchor Jan 31 → Feb 28 →
// Mar 31), days and weeks as fixed seconds. Proration is by the second over the period.
const DAY = 86_400;

export type Interval = "day" | "week" | "month" | "year";

export function addInterval(anchor: number, interval: Interval, count: number): number {
  if (interval === "day") return anchor + count * DAY;
  if (interval === "week") return anchor + count * 7 * DAY;
  const months = interval === "year" ? 12 * count : count;
  const d = new Date(anchor * 1000);
  const y = d.getUTCFullYear();
  const m = d.getUTCMonth() + months;
  const target = new Date(Date.UTC(y, m, 1, d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds()));
  const lastDay = new Date(Date.UTC(target.getUTCFullYear(), target.getUTCMonth() + 1, 0)).getUTCDate();
  target.setUTCDate(Math.min(d.getUTCDate(), lastDay));
  return Math.floor(target.getTime() / 1000);
}

/** The end of the period that starts at `start`, counting from the anchor (k-th period end > start). */
export function periodEnd(anchor: number, start: number, interval: Interval, count: number): number {
  for (let k = 1; k < 10_000; k++) {
    const end = addInterval(anchor, interval, k * count);
    if (end > start) return end;
  }
  throw new Error("period end not found");
}

/** Share of [start, end) left after `at`, for proration. */
export function remainingFraction(start: number, end: number, at: number): number {
  if (end <= start) return 0;
  return Math.min(1, Math.max(0, (end - at) / (end - start)));
}

export const SECONDS_PER_DAY = DAY;
