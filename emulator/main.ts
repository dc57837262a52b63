// CLI: tsx emulator/main.ts [--port N] [--state FILE]. Started by `npm run dev` and e2e tests as
// a process of its own; the app reaches it only over HTTP, through the stripe SDK. Environment:
// STRIPE_EMULATOR_PORT, STRIPE_EMULATOR_STATE, STRIPE_EMULATOR_RETRY_MS (webhook retry schedule,
// "500,1000,2000"), STRIPE_EMULATOR_API_VERSION (the account's default API version; defaults to
// the installed SDK's), STRIPE_EMULATOR_LOG=1.
import { startEmulator } from "./server";

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const port = Number(arg("port") ?? process.env.STRIPE_EMULATOR_PORT ?? 12111);
const stateFile = arg("state") ?? process.env.STRIPE_EMULATOR_STATE ?? ".data/stripe-emulator/state.json";
const retry = process.env.STRIPE_EMULATOR_RETRY_MS?.split(",").map(Number).filter((n) => Number.isFinite(n) && n >= 0);

const emulator = await startEmulator({
  port,
  stateFile,
  retryScheduleMs: retry?.length ? retry : undefined,
  log: process.env.STRIPE_EMULATOR_LOG === "1",
  apiVersion: process.env.STRIPE_EMULATOR_API_VERSION || undefined,
});
console.log(`Stripe emulator listening on ${emulator.url}`);

let closing = false;
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, async () => {
    if (closing) return;
    closing = true;
    await emulator.close();
    process.exit(0);
  });
}
