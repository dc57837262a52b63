// Runs the local Stripe emulator as a child process (the app never imports it) and talks to its
// control surface: wait until healthy, register the app's webhook endpoint.
import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";

export type EmulatorHandle = { url: string; child: ChildProcess; stop(): Promise<void> };

const root = path.resolve(import.meta.dirname, "..");

export async function startEmulatorProcess(opts: { port: number; stateFile: string; retryMs?: string; log?: boolean }): Promise<EmulatorHandle> {
  const url = `http://127.0.0.1:${opts.port}`;
  const child = spawn(
    process.execPath,
    ["--import", "tsx", path.join(root, "emulator/main.ts"), "--port", String(opts.port), "--state", opts.stateFile],
    {
      cwd: root,
      env: { ...process.env, ...(opts.retryMs ? { STRIPE_EMULATOR_RETRY_MS: opts.retryMs } : {}) },
      stdio: ["ignore", opts.log ? "inherit" : "ignore", "inherit"],
    },
  );
  let exited = false;
  child.on("exit", () => (exited = true));
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (exited) throw new Error(`Stripe emulator exited during start-up (port ${opts.port} busy?)`);
    try {
      const res = await fetch(`${url}/_emulator/health`);
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill("SIGTERM");
      throw new Error(`Stripe emulator did not become healthy on ${url}`);
    }
    await new Promise((r) => setTimeout(r, 150));
  }
  return {
    url,
    child,
    stop: () =>
      new Promise<void>((resolve) => {
        if (exited) return resolve();
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
        setTimeout(() => child.kill("SIGKILL"), 5_000).unref();
      }),
  };
}

export async function registerWebhookEndpoint(emulatorUrl: string, endpointUrl: string, secret: string): Promise<void> {
  const res = await fetch(`${emulatorUrl}/_emulator/webhook_endpoints`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ url: endpointUrl, secret }),
  });
  if (!res.ok) throw new Error(`could not register webhook endpoint: ${res.status} ${await res.text()}`);
}
