// npm run test:e2e — Playwright only (after the Chromium check).
import { spawnSync } from "node:child_process";
import { requireChromium } from "./chromium";

requireChromium();
const r = spawnSync("node_modules/.bin/playwright", ["test", ...process.argv.slice(2)], { stdio: "inherit" });
process.exit(r.status ?? 1);
