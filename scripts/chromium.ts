// Finds the Chromium the end-to-end tests drive. Never skips: with none found it says how to
// get one and fails.
import fs from "node:fs";

const CANDIDATES = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome", "/usr/bin/google-chrome-stable"];

export function findChromium(): string | null {
  const fromEnv = process.env.CHROMIUM_PATH ?? process.env.PLAYWRIGHT_CHROMIUM_EXECUTABLE_PATH;
  if (fromEnv) return fs.existsSync(fromEnv) ? fromEnv : null;
  return CANDIDATES.find((p) => fs.existsSync(p)) ?? null;
}

export const CHROMIUM_MISSING =
  "Chromium not found. The end-to-end tests need it.\n" +
  "  Debian/Ubuntu: apt-get install chromium\n" +
  "  Or set CHROMIUM_PATH to a Chromium or Chrome binary.";

export function requireChromium(): string {
  const path = findChromium();
  if (!path) {
    console.error(CHROMIUM_MISSING);
    process.exit(1);
  }
  return path;
}
