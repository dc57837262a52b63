import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { safeRedirectPath } from "./redirect";

const ORIGIN = "http://localhost:3000";
// Strings made of the characters that make URLs leave a site.
const tricky = fc
  .array(fc.constantFrom("/", "\\", ".", "..", "%2F", "%5C", "%25", "%09", "\t", "\n", "evil.com", ":", "@", "?", "#", "http:"), { maxLength: 8 })
  .map((parts) => parts.join(""));

describe("safeRedirectPath", () => {
  it.each([
    "/",
    "/orgs/acme/billing",
    "/orgs/acme/billing/transactions?kind=purchase&before=12",
    "/orgs/acme/billing#top",
  ])("keeps the local path %s", (p) => {
    expect(safeRedirectPath(p)).toBe(p);
  });

  it.each([
    ["backslash host", "/\\evil.com"],
    ["backslash after a tab", "/\t/evil.com"],
    ["raw tab between slashes", "/\t/evil.com/path"],
    ["protocol-relative", "//evil.com"],
    ["protocol-relative with path", "//evil.com/orgs"],
    ["absolute https", "https://evil.com"],
    ["absolute javascript", "javascript:alert(1)"],
    ["encoded backslash", "/%5Cevil.com"],
    ["encoded backslash lower case", "/%5cevil.com"],
    ["double-encoded backslash", "/%255Cevil.com"],
    ["encoded slash", "/%2F%2Fevil.com"],
    ["encoded tab", "/%09/evil.com"],
    ["encoded newline", "/%0A/evil.com"],
    ["encoded carriage return", "/%0D/evil.com"],
    ["raw newline", "/\n/evil.com"],
    ["NUL", "/\u0000/evil.com"],
    ["no leading slash", "evil.com"],
    ["relative dot path", "./x"],
    ["broken encoding", "/%E0%A4%A"],
    ["empty", ""],
    ["backslash only", "\\\\evil.com"],
    ["mixed slash backslash", "/\\/evil.com"],
    ["dot segment that normalises to //", "/.//evil.com"],
    ["dot-dot segment that normalises to //", "/x/..//evil.com"],
  ])("refuses %s", (_name, p) => {
    expect(safeRedirectPath(p)).toBe("/");
  });

  it.each([undefined, null, 42, ["/orgs"], { href: "/orgs" }])("refuses the non-string %s", (v) => {
    expect(safeRedirectPath(v)).toBe("/");
  });

  it("with an origin: full URLs on that origin become their path, other origins are refused", () => {
    expect(safeRedirectPath(`${ORIGIN}/orgs/acme/billing?x=1`, ORIGIN)).toBe("/orgs/acme/billing?x=1");
    expect(safeRedirectPath("/orgs/acme", ORIGIN)).toBe("/orgs/acme");
    expect(safeRedirectPath("https://evil.com/orgs", ORIGIN)).toBe("/");
    expect(safeRedirectPath("http://localhost:3001/orgs", ORIGIN)).toBe("/");
    expect(safeRedirectPath("http://localhost:3000@evil.com/", ORIGIN)).toBe("/");
    expect(safeRedirectPath(`${ORIGIN}/\\evil.com`, ORIGIN)).toBe("/");
    expect(safeRedirectPath(`${ORIGIN}//evil.com`, ORIGIN)).toBe("/");
  });

  it("whatever the input, the result resolves to this origin and is a path", () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.webUrl(), fc.webPath(), fc.string().map((s) => `/${s}`), tricky), (s) => {
        const out = safeRedirectPath(s);
        expect(out.startsWith("/")).toBe(true);
        expect(out.startsWith("//")).toBe(false);
        expect(out).not.toMatch(/[\\\u0000-\u001f]/);
        expect(new URL(out, ORIGIN).origin).toBe(ORIGIN);
      }),
      { numRuns: 2000 },
    );
  });
});
