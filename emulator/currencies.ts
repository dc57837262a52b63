// Stripe's presentment currencies and its amount rules, as its API enforces them on
// PaymentIntents: a lowercase three-letter code from the supported list (upper case is accepted
// and normalised), an integer amount in the currency's minor unit, at least the per-currency
// minimum charge and at most eight digits (twelve for IDR). Codes, messages and params match
// what Stripe answers, so the app's own checks can be tested against them.
import { ApiError, invalidInteger, invalidRequest, parameterMissing } from "./errors";
import { int, str } from "./form";

/** The list Stripe prints in its "Invalid currency" message. */
export const SUPPORTED_CURRENCIES = (
  "usd aed afn all amd ang aoa ars aud awg azn bam bbd bdt bgn bhd bif bmd bnd bob brl bsd bwp byn bzd cad cdf chf " +
  "clp cny cop crc cve czk djf dkk dop dzd egp etb eur fjd fkp gbp gel gip gmd gnf gtq gyd hkd hnl hrk htg huf idr ils " +
  "inr isk jmd jod jpy kes kgs khr kmf krw kwd kyd kzt lak lbp lkr lrd lsl mad mdl mga mkd mmk mnt mop mur mvr mwk mxn " +
  "myr mzn nad ngn nio nok npr nzd omr pab pen pgk php pkr pln pyg qar ron rsd rub rwf sar sbd scr sek sgd shp sle sos " +
  "srd std szl thb tjs tnd top try ttd twd tzs uah ugx uyu uzs vnd vuv wst xaf xcd xof xpf yer zar zmw usdc btn ghs " +
  "eek lvl svc vef ltl sll mro"
).split(" ");

const SUPPORTED = new Set(SUPPORTED_CURRENCIES);

/** Amounts are whole units in these (no minor unit). */
export const ZERO_DECIMAL = new Set(["bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf", "ugx", "vnd", "vuv", "xaf", "xof", "xpf"]);
/** Three minor digits; Stripe requires the last digit to be 0 for these. */
export const THREE_DECIMAL = new Set(["bhd", "jod", "kwd", "omr", "tnd"]);

/**
 * Stripe's published minimum charge amounts, in minor units of the currency. Currencies not
 * listed are converted to the settlement currency by Stripe; the emulator then only requires ≥ 1.
 */
export const MINIMUM_CHARGE: Record<string, number> = {
  usd: 50, aed: 200, aud: 50, bgn: 100, brl: 50, cad: 50, chf: 50, czk: 1500, dkk: 250, eur: 50, gbp: 30, hkd: 400,
  huf: 17500, inr: 50, jpy: 50, mxn: 1000, myr: 200, nok: 300, nzd: 50, pln: 200, ron: 200, sek: 300, sgd: 50, thb: 1000,
};

const SYMBOL: Record<string, string> = { usd: "$", eur: "€", gbp: "£", jpy: "¥", aud: "$", cad: "$", nzd: "$", sgd: "$", hkd: "$", mxn: "$", inr: "₹", chf: "CHF " };

export const MAXIMUM_CHARGE = (currency: string) => (currency === "idr" ? 999_999_999_999 : 99_999_999);

export function exponent(currency: string): number {
  return ZERO_DECIMAL.has(currency) ? 0 : THREE_DECIMAL.has(currency) ? 3 : 2;
}

/** "$0.50 usd", "¥50 jpy", as in Stripe's amount messages. */
export function formatAmount(minor: number, currency: string): string {
  const e = exponent(currency);
  const major = e === 0 ? String(minor) : (minor / 10 ** e).toLocaleString("en-US", { minimumFractionDigits: e, maximumFractionDigits: e });
  return `${SYMBOL[currency] ?? ""}${major} ${currency}`;
}

/** Validates and normalises a `currency` parameter (required). */
export function parseCurrency(value: unknown): string {
  if (value === undefined) throw parameterMissing("currency");
  const raw = str(value);
  if (raw === undefined || raw === "") {
    throw invalidRequest("Invalid string: currency must not be empty.", { code: "parameter_invalid_empty", param: "currency" });
  }
  const currency = raw.toLowerCase();
  if (!SUPPORTED.has(currency)) {
    throw invalidRequest(`Invalid currency: ${currency}. Stripe currently supports these currencies: ${SUPPORTED_CURRENCIES.join(", ")}`, { param: "currency" });
  }
  return currency;
}

/** Validates a charge `amount` (required) for a currency already validated. */
export function parseChargeAmount(value: unknown, currency: string): number {
  if (value === undefined) throw parameterMissing("amount");
  const amount = int(value);
  if (amount === undefined || Number.isNaN(amount)) throw invalidInteger("amount", value);
  if (amount < 1) throw invalidRequest("This value must be greater than or equal to 1.", { code: "parameter_invalid_integer", param: "amount" });
  const min = MINIMUM_CHARGE[currency] ?? 1;
  if (amount < min) {
    throw new ApiError(400, {
      type: "invalid_request_error",
      code: "amount_too_small",
      param: "amount",
      message: `Amount must be at least ${formatAmount(min, currency)}`,
      doc_url: "https://stripe.com/docs/error-codes/amount-too-small",
    });
  }
  const max = MAXIMUM_CHARGE(currency);
  if (amount > max) {
    throw new ApiError(400, {
      type: "invalid_request_error",
      code: "amount_too_large",
      param: "amount",
      message: `Amount must be no more than ${formatAmount(max, currency)}`,
      doc_url: "https://stripe.com/docs/error-codes/amount-too-large",
    });
  }
  if (THREE_DECIMAL.has(currency) && amount % 10 !== 0) {
    throw invalidRequest(`Invalid amount: ${currency} amounts must be a multiple of 10 (the last digit must be 0).`, { code: "invalid_charge_amount", param: "amount" });
  }
  return amount;
}
