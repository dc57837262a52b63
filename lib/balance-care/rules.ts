// Pure balance-care rules: when a debit crosses a threshold, and how long credits last at the
// recent pace.

/**
 * A downward crossing: the balance was at or above the threshold before and is below it after.
 * Debits of one organisation are serialised by its row lock, so exactly one debit crosses per
 * fall below the threshold; the next crossing needs the balance to have gone back up first.
 */
export function crossedBelow(before: number, after: number, threshold: number | null | undefined): boolean {
  if (threshold === null || threshold === undefined) return false;
  return before >= threshold && after < threshold;
}

export const FORECAST_WINDOW_DAYS = 7;

/**
 * "At the last 7 days' pace, credits last about N days": the balance divided by the average
 * daily spend over the window, rounded down. null when nothing was spent (no pace to go by);
 * 0 when the balance is already zero or negative.
 */
export function depletionForecastDays(balance: number, spentInWindow: number, windowDays: number = FORECAST_WINDOW_DAYS): number | null {
  if (!Number.isFinite(spentInWindow) || spentInWindow <= 0 || windowDays <= 0) return null;
  if (balance <= 0) return 0;
  // Integer arithmetic: floor(balance / (spent / days)) = floor(balance * days / spent).
  return Math.floor((balance * windowDays) / spentInWindow);
}

/** The sentence shown next to the balance and in the low-balance notice. */
export function forecastSentence(days: number | null, balance: number): string {
  if (balance <= 0) return "Credits are used up.";
  if (days === null) return "No credits spent in the last 7 days.";
  if (days === 0) return "At the last 7 days' pace, credits last less than a day.";
  return `At the last 7 days' pace, credits last about ${days} ${days === 1 ? "day" : "days"}.`;
}
