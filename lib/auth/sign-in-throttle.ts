// The sign-in throttle as pure rules: how many failed attempts an account and a client address
// may have in a window, and which address a request comes from. The service (sign-in.ts) counts
// rows and applies these.
export const SIGN_IN_WINDOW_MS = 15 * 60 * 1000;
/** Failures for one email (since its last success) within the window. */
export const ACCOUNT_FAILURE_LIMIT = 5;
/** Failures from one address within the window; higher, since offices share an address. */
export const ADDRESS_FAILURE_LIMIT = 20;

/** The error next-auth reports to the sign-in form while the throttle refuses attempts. */
export const SIGN_IN_THROTTLED = "TooManyAttempts";

export type SignInVerdict = { limited: false } | { limited: true; scope: "account" | "address" };

export function signInThrottle(p: { accountFailures: number; addressFailures: number }): SignInVerdict {
  if (p.accountFailures >= ACCOUNT_FAILURE_LIMIT) return { limited: true, scope: "account" };
  if (p.addressFailures >= ADDRESS_FAILURE_LIMIT) return { limited: true, scope: "address" };
  return { limited: false };
}

type HeaderBag = Headers | Record<string, string | string[] | undefined> | undefined;

function header(h: HeaderBag, name: string): string | undefined {
  if (!h) return undefined;
  if (h instanceof Headers) return h.get(name) ?? undefined;
  const v = h[name] ?? h[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}

/**
 * The client address for throttling: the first X-Forwarded-For hop (the client as the edge
 * proxy saw it), else X-Real-IP, else "unknown". The first hop can be forged by a client when
 * no proxy overwrites the header; the per-account limit does not depend on it.
 */
export function clientAddress(headers: HeaderBag): string {
  const forwarded = header(headers, "x-forwarded-for")?.split(",")[0]?.trim();
  const real = header(headers, "x-real-ip")?.trim();
  const address = forwarded || real || "unknown";
  return address.slice(0, 64);
}
