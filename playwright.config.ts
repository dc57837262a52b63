// End-to-end tests: Chromium (CHROMIUM_PATH, a system Chromium, or Playwright's — never skipped;
// npm test installs one when missing) against the preview — a production build (`next start`,
// CREDITLOOP_DEPLOYMENT=preview) — on :3100, on a freshly re-created and seeded database and a
// fresh Stripe emulator, started by the same launcher as `npm run preview` (scripts/dev.ts --e2e).
//
// Output: screenshots of every test (and the specs' own named shots in test-results/screens/)
// are kept. Playwright empties its outputDir at start, so it gets test-results/artifacts/ and
// leaves the runners' JSON summaries next to it alone.
import { defineConfig } from "@playwright/test";
import { requireChromium } from "./scripts/chromium";
import { PORTS } from "./scripts/ports";

const PORT = PORTS.e2eApp;
const CI = Boolean(process.env.CI);

export default defineConfig({
  testDir: "e2e",
  testMatch: "**/*.spec.ts",
  outputDir: "test-results/artifacts",
  globalSetup: "./e2e/support/global-setup.ts",
  // A 2-core CI machine runs next start, PostgreSQL, the emulator and Chromium at once.
  timeout: CI ? 120_000 : 90_000,
  expect: { timeout: 15_000 },
  fullyParallel: false,
  workers: 1,
  retries: 0,
  forbidOnly: CI,
  reporter: [
    ["list"],
    ["html", { open: "never", outputFolder: "playwright-report" }],
    // scripts/test.ts sets PLAYWRIGHT_JSON_OUTPUT_NAME to count results; without it json would
    // print to stdout.
    ...(process.env.PLAYWRIGHT_JSON_OUTPUT_NAME ? [["json"] as ["json"]] : []),
  ],
  use: {
    baseURL: `http://localhost:${PORT}`,
    screenshot: "on",
    trace: "retain-on-failure",
    navigationTimeout: 30_000,
    actionTimeout: 15_000,
    launchOptions: {
      executablePath: requireChromium(),
      args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
    },
  },
  projects: [
    { name: "chromium", testIgnore: "**/checkout-hosted.spec.ts", use: { browserName: "chromium", viewport: { width: 1280, height: 900 } } },
    // The hosted checkout stories run after every other spec: they change the demo organisations'
    // plan and balance, which the other stories assert on.
    { name: "checkout-hosted", testMatch: "**/checkout-hosted.spec.ts", dependencies: ["chromium"], use: { browserName: "chromium", viewport: { width: 1280, height: 900 } } },
  ],
  webServer: {
    command: "node_modules/.bin/tsx scripts/dev.ts --e2e",
    url: `http://localhost:${PORT}/api/health`,
    // Includes `next build`.
    timeout: 600_000,
    reuseExistingServer: false,
    stdout: "pipe",
    stderr: "pipe",
    // Let the launcher stop Next, the emulator and PostgreSQL cleanly (the default is SIGKILL).
    gracefulShutdown: { signal: "SIGTERM", timeout: 20_000 },
    // A grace period of about 17 s, so the dunning story sees it start and end (e2e/x-plan-renewal.spec.ts).
    env: { PORT: String(PORT), SUBSCRIPTION_GRACE_DAYS: "0.0002" },
  },
});
