// Where a sign-in may send the browser afterwards: only a path on this site. Browsers are lenient
// with URLs (a backslash counts as a slash, tabs and newlines are dropped, `//host` is another
// site), so the rule refuses anything that any decoding of the input could turn into another
// origin, and returns a path that is rebuilt from a parsed URL rather than the raw input.
const FALLBACK = "/";
const PROBE_ORIGIN = "http://creditloop.invalid";

/** Control characters (tab, newline, NUL, DEL…) and backslashes never belong in our paths. */
// eslint-disable-next-line no-control-regex
const FORBIDDEN = /[\u0000-\u001f\u007f\\]/;

function looksLocal(s: string): boolean {
  return s.startsWith("/") && !s.startsWith("//") && !FORBIDDEN.test(s);
}

/**
 * A same-origin path (`/orgs/acme/billing?x=1#y`) or "/" when the input is missing or could
 * leave the site. Absolute URLs are accepted only when they point at `origin` (next-auth hands
 * its redirect callback full URLs).
 */
export function safeRedirectPath(input: unknown, origin?: string): string {
  if (typeof input !== "string" || input.length === 0 || input.length > 2048) return FALLBACK;
  let candidate = input;
  if (origin && !candidate.startsWith("/")) {
    let parsed: URL;
    try {
      parsed = new URL(candidate);
    } catch {
      return FALLBACK;
    }
    if (parsed.origin !== new URL(origin).origin || FORBIDDEN.test(candidate)) return FALLBACK;
    candidate = parsed.pathname + parsed.search + parsed.hash;
  }
  // Every decoding of the input must still be a plain local path: `/%5Cevil.com` or
  // `/%2F%2Fevil.com` are harmless only until something decodes them once more.
  let form = candidate;
  for (let i = 0; i < 4; i++) {
    if (!looksLocal(form)) return FALLBACK;
    let decoded: string;
    try {
      decoded = decodeURIComponent(form);
    } catch {
      return FALLBACK;
    }
    if (decoded === form) break;
    form = decoded;
  }
  if (!looksLocal(form)) return FALLBACK;
  const url = new URL(candidate, PROBE_ORIGIN);
  const path = url.pathname + url.search + url.hash;
  // Dot segments normalise away: `/.//evil.com` becomes `//evil.com`, another site.
  if (url.origin !== PROBE_ORIGIN || !looksLocal(path)) return FALLBACK;
  return path;
}
