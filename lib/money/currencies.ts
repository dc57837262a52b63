// Per-currency facts Stripe applies to charges: the minor-unit exponent (how many decimals the
// amount's integer stands for: 2 for USD, 0 for JPY, the "zero-decimal" currencies) and the
// minimum charge, in minor units. Source: Stripe's "Supported currencies" and "Minimum and maximum
// charge amounts" pages. A currency missing here cannot be sold (packs and coupons are checked
// against this table), so adding one is a deliberate edit, not a surprise at payment time.
// Codes are lowercase, as Stripe sends and as the database stores them (check constraints).

export type CurrencyFacts = { exponent: 0 | 2 | 3; minimumCharge: number };

export const CURRENCIES: Readonly<Record<string, CurrencyFacts>> = {
  usd: { exponent: 2, minimumCharge: 50 },
  eur: { exponent: 2, minimumCharge: 50 },
  gbp: { exponent: 2, minimumCharge: 30 },
  cad: { exponent: 2, minimumCharge: 50 },
  aud: { exponent: 2, minimumCharge: 50 },
  nzd: { exponent: 2, minimumCharge: 50 },
  chf: { exponent: 2, minimumCharge: 50 },
  sgd: { exponent: 2, minimumCharge: 50 },
  hkd: { exponent: 2, minimumCharge: 400 },
  dkk: { exponent: 2, minimumCharge: 250 },
  nok: { exponent: 2, minimumCharge: 300 },
  sek: { exponent: 2, minimumCharge: 300 },
  pln: { exponent: 2, minimumCharge: 200 },
  czk: { exponent: 2, minimumCharge: 1500 },
  mxn: { exponent: 2, minimumCharge: 1000 },
  brl: { exponent: 2, minimumCharge: 50 },
  inr: { exponent: 2, minimumCharge: 50 },
  jpy: { exponent: 0, minimumCharge: 50 },
};

export function isSupportedCurrency(code: string): boolean {
  return Object.hasOwn(CURRENCIES, code);
}

/** Facts for a lowercase currency code; throws for unknown or non-lowercase codes. */
export function currencyFacts(code: string): CurrencyFacts {
  if (!isSupportedCurrency(code)) throw new RangeError(`unsupported currency ${JSON.stringify(code)} (codes are lowercase ISO 4217, see lib/money/currencies.ts)`);
  return CURRENCIES[code]!;
}

export function minimumCharge(code: string): number {
  return currencyFacts(code).minimumCharge;
}

export function minorUnitExponent(code: string): number {
  return currencyFacts(code).exponent;
}
