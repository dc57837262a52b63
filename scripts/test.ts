// npm test: every check and test on a fresh machine. Chromium first (found, or installed:
// Playwright's installer, then Debian's package where apt-get is usable — scripts/chromium.ts;
// fail, never skip), then the CI checks — typecheck (tsc --noEmit), lint (ESLint with Next's
// rules), check:imports (dependency-cruiser layer rules) — each counted as one pass or one fail,
// then vitest (unit, emulator, integration against real PostgreSQL and the emulator), then
// Playwright end-to-end against the preview build. Everything runs even when something before it
// failed, so one run shows every result; each prints its own output, and this script ends with
// one line over all: "N passed, N failed". Exit status is non-zero if anything failed.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { stripVTControlCharacters } from "node:util";
import { ensureChromium } from "./chromium";

process.chdir(path.resolve(import.meta.dirname, ".."));
const chromium = ensureChromium();
console.log(`Chromium: ${chromium}`);
fs.mkdirSync("test-results", { recursive: true });

const VITEST_JSON = "test-results/vitest.json";
const PLAYWRIGHT_JSON = "test-results/playwright.json";
for (const f of [VITEST_JSON, PLAYWRIGHT_JSON]) fs.rmSync(f, { force: true });

function run(bin: string, args: string[], env: Record<string, string> = {}): number {
  console.log(`\n▶ ${bin} ${args.join(" ")}\n`);
  const r = spawnSync(path.join("node_modules/.bin", bin), args, { stdio: "inherit", env: { ...process.env, ...env } });
  if (r.error) console.error(r.error.message);
  return r.status ?? 1;
}

function readJson(file: string): Record<string, unknown> | null {
  try {
    return JSON.parse(fs.readFileSync(file, "utf8"));
  } catch {
    return null;
  }
}

const num = (v: unknown) => (typeof v === "number" ? v : 0);

type Result = { name: string; status: number; passed: number; failed: number; skipped: number; failures?: string[] };

/** One line for a failed test: where it is, its name, and the first line of what it said. */
function failureLine(file: string, name: string, message: unknown): string {
  const text = typeof message === "string" ? stripVTControlCharacters(message) : "";
  const first = text.split("\n").find((l) => l.trim() !== "") ?? "";
  return `${path.relative(process.cwd(), file)} › ${name}${first ? `: ${first.trim().slice(0, 300)}` : ""}`;
}

type VitestFile = { name: string; message?: string; status?: string; assertionResults?: { fullName: string; status: string; failureMessages?: string[] }[] };

function vitestFailures(v: Record<string, unknown> | null): string[] {
  const out: string[] = [];
  for (const f of (v?.testResults as VitestFile[] | undefined) ?? []) {
    const failed = (f.assertionResults ?? []).filter((a) => a.status === "failed");
    for (const a of failed) out.push(failureLine(f.name, a.fullName, a.failureMessages?.[0]));
    if (failed.length === 0 && f.status === "failed") out.push(failureLine(f.name, "(the file)", f.message));
  }
  return out;
}

type PwSuite = { file?: string; suites?: PwSuite[]; specs?: { title: string; file: string; tests: { status: string; results?: { error?: { message?: string } }[] }[] }[] };

function playwrightFailures(suites: PwSuite[] | undefined, out: string[] = []): string[] {
  for (const s of suites ?? []) {
    for (const spec of s.specs ?? []) {
      for (const t of spec.tests) {
        if (t.status === "unexpected") out.push(failureLine(path.join("e2e", spec.file), spec.title, t.results?.at(-1)?.error?.message));
      }
    }
    playwrightFailures(s.suites, out);
  }
  return out;
}

/** A check is one test: it passes (exit 0) or fails. */
function check(name: string, bin: string, args: string[]): Result {
  const status = run(bin, args);
  return { name, status, passed: status === 0 ? 1 : 0, failed: status === 0 ? 0 : 1, skipped: 0 };
}

function vitest(): Result {
  const status = run("vitest", ["run", "--reporter=default", "--reporter=json", `--outputFile=${VITEST_JSON}`]);
  const v = readJson(VITEST_JSON);
  const failed = num(v?.numFailedTests);
  return {
    name: "vitest",
    status,
    passed: num(v?.numPassedTests),
    // A run that failed outside any test (global setup, a file that does not load) still fails.
    failed: status !== 0 && failed === 0 ? 1 : failed,
    skipped: num(v?.numPendingTests) + num(v?.numTodoTests),
    failures: vitestFailures(v),
  };
}

function playwright(): Result {
  const status = run("playwright", ["test"], { PLAYWRIGHT_JSON_OUTPUT_NAME: PLAYWRIGHT_JSON, CHROMIUM_PATH: chromium });
  const report = readJson(PLAYWRIGHT_JSON);
  const s = report?.stats as Record<string, unknown> | undefined;
  const failed = num(s?.unexpected);
  return {
    name: "playwright",
    status,
    passed: num(s?.expected) + num(s?.flaky),
    failed: status !== 0 && failed === 0 ? 1 : failed, // web server or config failure
    skipped: num(s?.skipped),
    failures: [
      ...playwrightFailures(report?.suites as PwSuite[] | undefined),
      // Errors outside any test (the web server, global setup).
      ...((report?.errors as { message?: string }[] | undefined) ?? []).map((e) => failureLine("e2e", "(outside any test)", e.message)),
    ],
  };
}

const results = [
  check("typecheck", "tsc", ["--noEmit"]),
  check("lint", "eslint", ["."]),
  check("imports", "depcruise", ["app", "components", "lib", "db", "instrumentation.ts", "--config", ".dependency-cruiser.cjs"]),
  vitest(),
  playwright(),
];

console.log("\n── npm test ──");
for (const r of results) {
  console.log(`${r.name.padEnd(11)} ${r.passed} passed, ${r.failed} failed${r.skipped ? `, ${r.skipped} skipped` : ""} (exit ${r.status})`);
}
// The failed tests by name, last, where a log's tail shows them.
// A check, or a run that failed outside any test (global setup, the web server), has no names.
const failures = results.flatMap((r) =>
  r.failures && r.failures.length > 0 ? r.failures.map((f) => `${r.name}: ${f}`) : r.failed > 0 ? [`${r.name}: exit ${r.status} (its output above says why)`] : [],
);
if (failures.length > 0) console.log(`\nfailed:\n${failures.map((f) => `  ✗ ${f}`).join("\n")}`);
const passed = results.reduce((n, r) => n + r.passed, 0);
const failed = results.reduce((n, r) => n + r.failed, 0);
const ok = results.every((r) => r.status === 0) && failed === 0 && passed > 0;
console.log(`\n${passed} passed, ${failed} failed`);
process.exit(ok ? 0 : 1);
