// npm test: every test on a fresh machine — Chromium check first (fail, never skip), then
// vitest (unit, emulator, integration against real PostgreSQL), then Playwright end-to-end.
import { spawnSync } from "node:child_process";
import { requireChromium } from "./chromium";

requireChromium();

const steps: [string, string[]][] = [
  ["vitest", ["run"]],
  ["playwright", ["test"]],
];

for (const [bin, args] of steps) {
  console.log(`\n▶ ${bin} ${args.join(" ")}\n`);
  const r = spawnSync(`node_modules/.bin/${bin}`, args, { stdio: "inherit", env: process.env });
  if (r.status !== 0) {
    console.error(`\n✗ ${bin} failed (exit ${r.status ?? r.signal}).`);
    process.exit(r.status ?? 1);
  }
}
console.log("\n✓ all tests passed");
