// Finds the Chromium the end-to-end tests drive. Never skips: with none found it says how to
// get one and fails. CHROMIUM_PATH (or PLAYWRIGHT_CHROMIUM_EXECUTABLE_PATH), when set, must
// point at a binary — a wrong path fails rather than silently using another browser.
import fs from "node:fs";
import { pathToFileURL } from "node:url";

const CANDIDATES = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome", "/usr/bin/google-chrome-stable"];

export const CHROMIUM_MISSING =
  "Chromium not found. Install it (Debian/Ubuntu: apt-get install chromium) or set CHROMIUM_PATH to a Chromium/Chrome binary.";

function executable(p: string): boolean {
  try {
    fs.accessSync(p, fs.constants.X_OK);
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
}

export function findChromium(): string | null {
  const fromEnv = process.env.CHROMIUM_PATH || process.env.PLAYWRIGHT_CHROMIUM_EXECUTABLE_PATH;
  if (fromEnv) return executable(fromEnv) ? fromEnv : null;
  return CANDIDATES.find(executable) ?? null;
}

export function requireChromium(): string {
  const found = findChromium();
  if (!found) {
    const fromEnv = process.env.CHROMIUM_PATH || process.env.PLAYWRIGHT_CHROMIUM_EXECUTABLE_PATH;
    if (fromEnv) console.error(`CHROMIUM_PATH=${fromEnv} is not an executable file.`);
    console.error(CHROMIUM_MISSING);
    process.exit(1);
  }
  return found;
}

// `tsx scripts/chromium.ts` prints the path (or fails as above).
if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) console.log(requireChromium());
