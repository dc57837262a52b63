// npm test: every test on a fresh machine — Chromium check first (fail, never skip), then
// vitest (unit, emulator, integration against real PostgreSQL and the emulator), then
// Playwright end-to-end against `next start`. Both runners always run, so one failing run still
// shows the other's results; each prints its own summary, and this script ends with one line
// over both: "N passed, N failed". Exit status is non-zero if anything failed.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { requireChromium } from "./chromium";

process.chdir(path.resolve(import.meta.dirname, ".."));
const chromium = requireChromium();
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

function readJson(file: string): any {
  try {
    return JSON.parse(fs.readFileSync(file, "utf8"));
  } catch {
    return null;
  }
}

type Result = { name: string; status: number; passed: number; failed: number; skipped: number };

function vitest(): Result {
  const status = run("vitest", ["run", "--reporter=default", "--reporter=json", `--outputFile=${VITEST_JSON}`]);
  const v = readJson(VITEST_JSON);
  const failed = v?.numFailedTests ?? 0;
  return {
    name: "vitest",
    status,
    passed: v?.numPassedTests ?? 0,
    // A run that failed outside any test (global setup, a file that does not load) still fails.
    failed: status !== 0 && failed === 0 ? 1 : failed,
    skipped: (v?.numPendingTests ?? 0) + (v?.numTodoTests ?? 0),
  };
}

function playwright(): Result {
  const status = run("playwright", ["test"], { PLAYWRIGHT_JSON_OUTPUT_NAME: PLAYWRIGHT_JSON, CHROMIUM_PATH: chromium });
  const s = readJson(PLAYWRIGHT_JSON)?.stats;
  const failed = s?.unexpected ?? 0;
  return {
    name: "playwright",
    status,
    passed: (s?.expected ?? 0) + (s?.flaky ?? 0),
    failed: status !== 0 && failed === 0 ? 1 : failed, // web server or config failure
    skipped: s?.skipped ?? 0,
  };
}

const results = [vitest(), playwright()];

console.log("\n── npm test ──");
for (const r of results) {
  console.log(`${r.name.padEnd(11)} ${r.passed} passed, ${r.failed} failed${r.skipped ? `, ${r.skipped} skipped` : ""} (exit ${r.status})`);
}
const passed = results.reduce((n, r) => n + r.passed, 0);
const failed = results.reduce((n, r) => n + r.failed, 0);
const ok = results.every((r) => r.status === 0) && failed === 0 && passed > 0;
console.log(`\n${passed} passed, ${failed} failed`);
process.exit(ok ? 0 : 1);
