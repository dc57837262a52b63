// Request parameters as the SDK sends them: application/x-www-form-urlencoded with bracket
// notation (metadata[purchase_id]=…, expand[]=…) in the body, or the query string for GETs.
import qs from "qs";

export type Params = Record<string, unknown>;

export function parseParams(text: string): Params {
  if (!text) return {};
  return qs.parse(text, { depth: 10, arrayLimit: 1000, parameterLimit: 5000, allowDots: false }) as Params;
}

export function str(v: unknown): string | undefined {
  return typeof v === "string" ? v : undefined;
}

export function bool(v: unknown): boolean | undefined {
  if (v === "true" || v === true) return true;
  if (v === "false" || v === false) return false;
  return undefined;
}

/** Stripe integers arrive as strings; undefined when absent, NaN when not an integer. */
export function int(v: unknown): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== "string" || !/^-?\d+$/.test(v)) return Number.NaN;
  return Number(v);
}

export function metadata(v: unknown, current: Record<string, string> = {}): Record<string, string> {
  if (v === undefined) return current;
  if (v === "") return {};
  const out = { ...current };
  if (typeof v === "object" && v !== null) {
    for (const [k, val] of Object.entries(v)) {
      if (val === "") delete out[k];
      else out[k] = String(val);
    }
  }
  return out;
}
