// npm test: every test on a fresh machine — Chromium check first (fail, never skip), then
// vitest (unit, emulator, integration against real PostgreSQL), then Playwright end-to-end.
// Ends with one summary line, "N passed, N failed", over both runners.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import { requireChromium } from "./chromium";

requireChromium();
fs.mkdirSync("test-results", { recursive: true });

const VITEST_JSON = "test-results/vitest.json";
const PLAYWRIGHT_JSON = "test-results/playwright.json";
for (const f of [VITEST_JSON, PLAYWRIGHT_JSON]) fs.rmSync(f, { force: true });

function run(bin: string, args: string[], env: Record<string, string> = {}): number {
  console.log(`\n▶ ${bin} ${args.join(" ")}\n`);
  const r = spawnSync(`node_modules/.bin/${bin}`, args, { stdio: "inherit", env: { ...process.env, ...env } });
  return r.status ?? 1;
}

function readJson(file: string): any {
  try {
    return JSON.parse(fs.readFileSync(file, "utf8"));
  } catch {
    return null;
  }
}

let passed = 0;
let failed = 0;

const vitestStatus = run("vitest", ["run", "--reporter=default", "--reporter=json", `--outputFile=${VITEST_JSON}`]);
const v = readJson(VITEST_JSON);
passed += v?.numPassedTests ?? 0;
failed += Math.max(v?.numFailedTests ?? 0, vitestStatus === 0 ? 0 : 1);

let playwrightStatus = 1;
if (vitestStatus === 0) {
  playwrightStatus = run("playwright", ["test"], { PLAYWRIGHT_JSON_OUTPUT_NAME: PLAYWRIGHT_JSON });
  const p = readJson(PLAYWRIGHT_JSON);
  passed += (p?.stats?.expected ?? 0) + (p?.stats?.flaky ?? 0);
  // A run that failed before any test (web server, config) still counts as a failure.
  failed += Math.max(p?.stats?.unexpected ?? 0, playwrightStatus === 0 ? 0 : 1);
} else {
  console.error("\n✗ vitest failed; end-to-end tests not run.");
}

const ok = vitestStatus === 0 && playwrightStatus === 0 && failed === 0 && passed > 0;
console.log(`\n${passed} passed, ${failed} failed`);
process.exit(ok ? 0 : 1);
