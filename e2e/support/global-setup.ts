// Runs once after Playwright's web server (scripts/dev.ts --e2e) answers: checks that the stack
// the specs assume is really up — the app can reach its database and the e2e Stripe emulator
// (fresh state, webhook endpoint registered by the launcher) is healthy — so a broken start-up
// fails here with one clear message instead of as timeouts in every spec.
import type { FullConfig } from "@playwright/test";
import { PORTS } from "../../scripts/ports";

const EMULATOR_URL = `http://127.0.0.1:${PORTS.e2eEmulator}`; // scripts/dev.ts, e2e profile

async function getJson(url: string): Promise<{ status: number; body: unknown }> {
  const res = await fetch(url, { signal: AbortSignal.timeout(30_000) });
  return { status: res.status, body: await res.json().catch(() => null) };
}

export default async function globalSetup(config: FullConfig) {
  const baseURL = config.projects[0]?.use.baseURL ?? `http://localhost:${PORTS.e2eApp}`;
  const health = await getJson(`${baseURL}/api/health`);
  if (health.status !== 200) throw new Error(`App at ${baseURL} is not healthy: ${health.status} ${JSON.stringify(health.body)}`);
  const emulator = await getJson(`${EMULATOR_URL}/_emulator/health`).catch((e: Error) => ({ status: 0, body: e.message }));
  if (emulator.status !== 200) throw new Error(`Stripe emulator at ${EMULATOR_URL} is not healthy: ${emulator.status} ${JSON.stringify(emulator.body)}`);
}
