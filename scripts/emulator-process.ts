// Runs the local Stripe emulator as a child process (the app never imports it) and talks to its
// control surface: wait until healthy, register the app's webhook endpoint, stop with us.
import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";

export type EmulatorHandle = {
  url: string;
  child: ChildProcess;
  /** Registers (or, for a known url, re-keys) a webhook endpoint the emulator delivers to. */
  registerEndpoint(endpointUrl: string, secret: string): Promise<void>;
  stop(): Promise<void>;
};

const root = path.resolve(import.meta.dirname, "..");

async function healthy(url: string): Promise<boolean> {
  try {
    const res = await fetch(`${url}/_emulator/health`, { signal: AbortSignal.timeout(2_000) });
    return res.ok;
  } catch {
    return false;
  }
}

export async function startEmulatorProcess(opts: {
  port: number;
  stateFile: string;
  /** Webhook retry schedule, e.g. "500,1000,2000" (STRIPE_EMULATOR_RETRY_MS of emulator/main.ts). */
  retryMs?: string;
  /** Show the emulator's stdout (its stderr is always shown). */
  log?: boolean;
}): Promise<EmulatorHandle> {
  const url = `http://127.0.0.1:${opts.port}`;
  if (await healthy(url)) {
    // Without this check we would wait on someone else's emulator and register our webhook there.
    throw new Error(`A Stripe emulator is already listening on ${url} (another \`npm run dev\`?). Stop it first.`);
  }
  const child = spawn(
    process.execPath,
    ["--import", "tsx", path.join(root, "emulator/main.ts"), "--port", String(opts.port), "--state", path.resolve(root, opts.stateFile)],
    {
      cwd: root,
      env: { ...process.env, ...(opts.retryMs ? { STRIPE_EMULATOR_RETRY_MS: opts.retryMs } : {}) },
      stdio: ["ignore", opts.log ? "inherit" : "ignore", "inherit"],
    },
  );
  let exited = false;
  const exitedPromise = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.once("exit", () => (exited = true));
  // If we go away without stopping it (process.exit, crash), it goes too.
  const killOnExit = () => {
    if (!exited) child.kill("SIGTERM");
  };
  process.once("exit", killOnExit);

  const deadline = Date.now() + 30_000;
  while (!(await healthy(url))) {
    if (exited) throw new Error(`Stripe emulator exited during start-up (port ${opts.port} in use?)`);
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`Stripe emulator did not become healthy on ${url} within 30s`);
    }
    await new Promise((r) => setTimeout(r, 150));
  }
  return {
    url,
    child,
    registerEndpoint: (endpointUrl, secret) => registerWebhookEndpoint(url, endpointUrl, secret),
    stop: async () => {
      process.removeListener("exit", killOnExit);
      if (exited) return;
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
      await exitedPromise;
      clearTimeout(timer);
    },
  };
}

export async function registerWebhookEndpoint(emulatorUrl: string, endpointUrl: string, secret: string): Promise<void> {
  const res = await fetch(`${emulatorUrl}/_emulator/webhook_endpoints`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ url: endpointUrl, secret }),
  });
  if (!res.ok) throw new Error(`could not register webhook endpoint ${endpointUrl}: ${res.status} ${await res.text()}`);
}
