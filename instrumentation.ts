// Runs once when the Next server starts (dev, preview and production alike): parse the
// environment so a misconfigured deployment stops immediately with the names of the missing
// variables, not on the first payment. In production (CREDITLOOP_DEPLOYMENT=production, or a
// bare `next start`) the production rules of lib/deployment.ts apply as well — no emulator, keys
// of one mode, every secret set — so even a server started without `npm start` never runs with
// demo access; dev and preview refuse live keys. Then start the job workers in this process
// (lib/jobs: pg-boss on the same database; any number of instances may run them).
// JOB_WORKERS=off starts a web-only instance (some other instance must then run the workers).
export async function register() {
  if (process.env.NEXT_RUNTIME === "nodejs") {
    const { log } = await import("./lib/log");
    const { deploymentOf, deploymentProblems } = await import("./lib/deployment");
    const { serverEnv } = await import("./lib/env");
    const deployment = deploymentOf(process.env);
    const problems = deploymentProblems(process.env);
    if (problems.length === 0) {
      try {
        serverEnv();
      } catch (e) {
        problems.push(e instanceof Error ? e.message : String(e));
      }
    }
    if (problems.length > 0) {
      for (const problem of problems) log.fatal({ deployment }, problem);
      process.exit(1);
    }
    log.info({ deployment }, "environment checked");
    if (process.env.JOB_WORKERS !== "off") {
      // No signal handling here: Next exits on SIGTERM; a job cut short expires and is retried
      // (handlers are idempotent).
      const [{ getDb }, { startWorkers }] = await Promise.all([import("./db/client"), import("./lib/jobs/workers")]);
      await startWorkers(getDb());
    }
  }
}
