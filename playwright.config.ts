// End-to-end tests: Chromium (Debian's, via CHROMIUM_PATH or /usr/bin/chromium) against
// `next start` on a freshly migrated and seeded database and a fresh Stripe emulator, started by
// the same launcher as `npm run dev` (scripts/dev.ts --e2e). Screenshots are kept as output.
import { defineConfig } from "@playwright/test";
import { requireChromium } from "./scripts/chromium";

const PORT = 3100;

export default defineConfig({
  testDir: "e2e",
  outputDir: "test-results/artifacts",
  timeout: 90_000,
  expect: { timeout: 15_000 },
  fullyParallel: false,
  workers: 1,
  retries: 0,
  // json goes to PLAYWRIGHT_JSON_OUTPUT_NAME when npm test sets it (scripts/test.ts counts results).
  reporter: [["list"], ["html", { open: "never", outputFolder: "playwright-report" }], ["json"]],
  use: {
    baseURL: `http://localhost:${PORT}`,
    screenshot: "on",
    trace: "retain-on-failure",
    launchOptions: {
      executablePath: requireChromium(),
      args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
    },
  },
  projects: [{ name: "chromium", use: { browserName: "chromium", viewport: { width: 1280, height: 900 } } }],
  webServer: {
    command: "npx tsx scripts/dev.ts --e2e",
    url: `http://localhost:${PORT}/api/health`,
    timeout: 300_000,
    reuseExistingServer: false,
    stdout: "pipe",
    stderr: "pipe",
    env: { PORT: String(PORT) },
  },
});
