// Money is integer minor units plus a lowercase ISO currency code; credits are integers.
// Every conversion is an explicit function here; nothing in a money path uses floats.

import { CURRENCIES } from "./currencies";

export { minimumCharge, minorUnitExponent, currencyFacts, isSupportedCurrency } from "./currencies";

export function assertMinorUnits(amount: number): void {
  if (!Number.isSafeInteger(amount)) throw new RangeError(`amount must be an integer in minor units, got ${amount}`);
}

/** percent% of amount, rounded half up to a whole minor unit (as Stripe rounds percent-off). */
export function percentOf(amount: number, percent: number): number {
  assertMinorUnits(amount);
  if (!Number.isInteger(percent) || percent < 0 || percent > 100) throw new RangeError(`bad percent ${percent}`);
  if (amount < 0) throw new RangeError("amount must not be negative");
  return Math.floor((amount * percent + 50) / 100);
}

export function formatMoney(amountMinor: number, currency: string, locale = "en-US"): string {
  assertMinorUnits(amountMinor);
  // The exponent is Stripe's (lib/money/currencies.ts), which is what the integer means; Intl's
  // own digits (ISO 4217) only decide how it is printed. Divide only here, at the edge.
  const exponent = CURRENCIES[currency]?.exponent;
  const fmt = new Intl.NumberFormat(locale, {
    style: "currency",
    currency: currency.toUpperCase(),
    ...(exponent === undefined ? {} : { minimumFractionDigits: exponent, maximumFractionDigits: exponent }),
  });
  const digits = exponent ?? fmt.resolvedOptions().maximumFractionDigits ?? 2;
  return fmt.format(amountMinor / 10 ** digits);
}

// Building an Intl.NumberFormat costs far more than using one (it showed in the webhook's CPU
// profile): one per locale and style, made once.
const formatters = new Map<string, Intl.NumberFormat>();
function numberFormat(locale: string, signed: boolean): Intl.NumberFormat {
  const key = `${locale}|${signed}`;
  let f = formatters.get(key);
  if (!f) formatters.set(key, (f = new Intl.NumberFormat(locale, signed ? { signDisplay: "exceptZero" } : {})));
  return f;
}

export function formatCredits(credits: number, locale = "en-US"): string {
  return numberFormat(locale, false).format(credits);
}

export function formatSignedCredits(credits: number, locale = "en-US"): string {
  return numberFormat(locale, true).format(credits);
}
