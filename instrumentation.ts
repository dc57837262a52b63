// Runs once when the Next server starts (dev, preview and production alike): parse the
// environment so a misconfigured deployment stops immediately with the names of the missing
// variables, not on the first payment; then start the job workers in this process (lib/jobs:
// pg-boss on the same database; any number of instances may run them). JOB_WORKERS=off starts a
// web-only instance (some other instance must then run the workers).
export async function register() {
  if (process.env.NEXT_RUNTIME === "nodejs") {
    const { serverEnv } = await import("./lib/env");
    try {
      serverEnv();
    } catch (e) {
      console.error(e instanceof Error ? e.message : e);
      process.exit(1);
    }
    if (process.env.JOB_WORKERS !== "off") {
      // No signal handling here: Next exits on SIGTERM; a job cut short expires and is retried
      // (handlers are idempotent).
      const [{ getDb }, { startWorkers }] = await Promise.all([import("./db/client"), import("./lib/jobs/workers")]);
      await startWorkers(getDb());
    }
  }
}
