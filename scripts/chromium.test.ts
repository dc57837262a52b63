// What `npm test` does when it finds no Chromium: Playwright's installer first, then Debian's
// package where apt-get is usable, then the old message — decided over injected probes, so
// nothing is installed here.
import { describe, expect, it } from "vitest";
import { CHROMIUM_MISSING, decideChromium, type ChromiumProbes } from "./chromium";

function probes(opts: {
  env?: string;
  /** What find() answers on each call, in order (the last answer repeats). */
  finds: (string | null)[];
  playwright?: boolean;
  apt?: "root" | "sudo" | null;
  aptOk?: boolean;
}) {
  const calls: string[] = [];
  const said: string[] = [];
  let i = 0;
  const p: ChromiumProbes = {
    envPath: () => opts.env,
    find: () => {
      calls.push("find");
      return opts.finds[Math.min(i++, opts.finds.length - 1)] ?? null;
    },
    playwrightInstall: () => (calls.push("playwright install chromium"), opts.playwright ?? false),
    aptAccess: () => (calls.push("apt access?"), opts.apt ?? null),
    aptInstall: (access) => (calls.push(`apt-get install chromium as ${access}`), opts.aptOk ?? false),
    say: (line) => said.push(line),
  };
  return { p, calls, said };
}

describe("decideChromium", () => {
  it("uses a Chromium that is there and installs nothing", () => {
    const { p, calls, said } = probes({ finds: ["/usr/bin/chromium"] });
    expect(decideChromium(p)).toEqual({ path: "/usr/bin/chromium" });
    expect(calls).toEqual(["find"]);
    expect(said).toEqual([]);
  });

  it("tries Playwright's installer first, saying so, and stops there when it works", () => {
    const pw = "/root/.cache/ms-playwright/chromium-1/chrome-linux64/chrome";
    const { p, calls, said } = probes({ finds: [null, pw], playwright: true, apt: "root" });
    expect(decideChromium(p)).toEqual({ path: pw });
    expect(calls).toEqual(["find", "playwright install chromium", "find"]);
    expect(said[0]).toMatch(/npx playwright install chromium/);
  });

  it("falls back to Debian's package when Playwright's installer fails and apt-get is usable", () => {
    const { p, calls, said } = probes({ finds: [null, "/usr/bin/chromium"], playwright: false, apt: "sudo", aptOk: true });
    expect(decideChromium(p)).toEqual({ path: "/usr/bin/chromium" });
    expect(calls).toEqual(["find", "playwright install chromium", "apt access?", "apt-get install chromium as sudo", "find"]);
    expect(said.some((l) => /sudo apt-get install chromium/.test(l))).toBe(true);
  });

  it("falls back to Debian's package when Playwright's Chromium is installed but does not start", () => {
    const { p, calls } = probes({ finds: [null, null, "/usr/bin/chromium"], playwright: true, apt: "root", aptOk: true });
    expect(decideChromium(p)).toEqual({ path: "/usr/bin/chromium" });
    expect(calls).toEqual(["find", "playwright install chromium", "find", "apt access?", "apt-get install chromium as root", "find"]);
  });

  it("stops with today's message when both fail", () => {
    const { p, said } = probes({ finds: [null], playwright: false, apt: "root", aptOk: false });
    expect(decideChromium(p)).toEqual({ errors: [CHROMIUM_MISSING] });
    expect(said.at(-1)).toMatch(/Debian's chromium package failed/);
  });

  it("does not try apt-get without root or sudo", () => {
    const { p, calls, said } = probes({ finds: [null], playwright: false, apt: null });
    expect(decideChromium(p)).toEqual({ errors: [CHROMIUM_MISSING] });
    expect(calls).not.toContain("apt-get install chromium as root");
    expect(calls).not.toContain("apt-get install chromium as sudo");
    expect(said.at(-1)).toMatch(/apt-get is not usable here/);
  });

  it("never replaces a CHROMIUM_PATH that is wrong", () => {
    const { p, calls } = probes({ env: "/nope/chrome", finds: [null], playwright: true, apt: "root", aptOk: true });
    expect(decideChromium(p)).toEqual({ errors: ["CHROMIUM_PATH=/nope/chrome is not an executable file.", CHROMIUM_MISSING] });
    expect(calls).toEqual(["find"]);
  });
});
