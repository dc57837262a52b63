// npm run test:e2e — Playwright only, after finding (or installing) Chromium as npm test does.
import { spawnSync } from "node:child_process";
import { ensureChromium } from "./chromium";

const chromium = ensureChromium();
const r = spawnSync("node_modules/.bin/playwright", ["test", ...process.argv.slice(2)], {
  stdio: "inherit",
  env: { ...process.env, CHROMIUM_PATH: chromium },
});
process.exit(r.status ?? 1);
