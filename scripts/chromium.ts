// Finds the Chromium the end-to-end tests drive. Never skips. CHROMIUM_PATH (or
// PLAYWRIGHT_CHROMIUM_EXECUTABLE_PATH), when set, must point at a binary — a wrong path fails
// rather than silently using another browser. Otherwise: the usual system paths, then the
// Chromium that Playwright's own installer puts in its cache.
//
// With none found, `npm test` (ensureChromium) installs one, saying what it runs:
//   1. Playwright's installer, `npx playwright install chromium` (any machine with internet);
//   2. where apt-get is usable (root, or sudo without a password), Debian's `chromium` package;
// and only when both fail stops with CHROMIUM_MISSING. The decision is a function over injected
// probes (decideChromium), unit-tested without installing anything.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { chromium as playwrightChromium } from "@playwright/test";

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

function chromiumFromEnv(): string | undefined {
  return process.env.CHROMIUM_PATH || process.env.PLAYWRIGHT_CHROMIUM_EXECUTABLE_PATH || undefined;
}

/** Playwright's own Chromium, when its installer has put it here and it starts (its libraries are present). */
function playwrightChromiumPath(): string | null {
  let p: string;
  try {
    p = playwrightChromium.executablePath();
  } catch {
    return null;
  }
  if (!executable(p)) return null;
  return spawnSync(p, ["--version"], { stdio: "ignore", timeout: 30_000 }).status === 0 ? p : null;
}

export function findChromium(): string | null {
  const fromEnv = chromiumFromEnv();
  if (fromEnv) return executable(fromEnv) ? fromEnv : null;
  return CANDIDATES.find(executable) ?? playwrightChromiumPath();
}

/** Synchronous, never installs: for playwright.config.ts (npm test has run ensureChromium first). */
export function requireChromium(): string {
  const found = findChromium();
  if (!found) {
    const fromEnv = chromiumFromEnv();
    if (fromEnv) console.error(`CHROMIUM_PATH=${fromEnv} is not an executable file.`);
    console.error(CHROMIUM_MISSING);
    process.exit(1);
  }
  return found;
}

export type ChromiumProbes = {
  /** CHROMIUM_PATH / PLAYWRIGHT_CHROMIUM_EXECUTABLE_PATH, if set. */
  envPath(): string | undefined;
  find(): string | null;
  /** Runs Playwright's installer; true when it exited 0. */
  playwrightInstall(): boolean;
  /** How apt-get can run here: as root, through passwordless sudo, or not at all. */
  aptAccess(): "root" | "sudo" | null;
  /** apt-get update + install chromium; true when it exited 0. */
  aptInstall(access: "root" | "sudo"): boolean;
  say(line: string): void;
};

export type ChromiumDecision = { path: string } | { errors: string[] };

export function decideChromium(p: ChromiumProbes): ChromiumDecision {
  const fromEnv = p.envPath();
  const first = p.find();
  if (first) return { path: first };
  // A binary named by the caller is not replaced by one we install.
  if (fromEnv) return { errors: [`CHROMIUM_PATH=${fromEnv} is not an executable file.`, CHROMIUM_MISSING] };

  p.say("Chromium not found: installing Playwright's Chromium with `npx playwright install chromium`…");
  if (p.playwrightInstall()) {
    const found = p.find();
    if (found) return { path: found };
    p.say("Playwright's installer finished, but its Chromium does not start here (missing system libraries?).");
  } else {
    p.say("Playwright's installer failed (no internet access?).");
  }

  const access = p.aptAccess();
  if (access) {
    p.say(`Installing Debian's chromium package with \`${access === "sudo" ? "sudo " : ""}apt-get install chromium\`…`);
    if (p.aptInstall(access)) {
      const found = p.find();
      if (found) return { path: found };
    }
    p.say("Installing Debian's chromium package failed.");
  } else {
    p.say("apt-get is not usable here (needs root or passwordless sudo): not trying Debian's chromium package.");
  }
  return { errors: [CHROMIUM_MISSING] };
}

const root = path.resolve(import.meta.dirname, "..");

export const realProbes: ChromiumProbes = {
  envPath: chromiumFromEnv,
  find: findChromium,
  playwrightInstall: () =>
    spawnSync(path.join(root, "node_modules/.bin/playwright"), ["install", "chromium"], { stdio: "inherit", cwd: root }).status === 0,
  aptAccess: () => {
    if (!executable("/usr/bin/apt-get")) return null;
    if (process.getuid?.() === 0) return "root";
    return spawnSync("sudo", ["-n", "true"], { stdio: "ignore" }).status === 0 ? "sudo" : null;
  },
  aptInstall: (access) => {
    const run = (args: string[]) => {
      const [cmd, ...rest] = access === "sudo" ? ["sudo", "-n", ...args] : args;
      return spawnSync(cmd!, rest, { stdio: "inherit", env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" } }).status === 0;
    };
    return run(["apt-get", "update"]) && run(["apt-get", "install", "-y", "--no-install-recommends", "chromium"]);
  },
  say: (line) => console.log(line),
};

/** For npm test and test:e2e: a Chromium path, installing one if need be, or exit 1 with the reason. */
export function ensureChromium(probes: ChromiumProbes = realProbes): string {
  const decision = decideChromium(probes);
  if ("path" in decision) return decision.path;
  for (const line of decision.errors) console.error(line);
  process.exit(1);
}

// `tsx scripts/chromium.ts` prints the path (or fails as above; it never installs).
if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) console.log(requireChromium());
