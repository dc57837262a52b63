// Runs once when the Next server starts: parse the environment so a misconfigured deployment
// stops immediately with the names of the missing variables, not on the first payment.
export async function register() {
  if (process.env.NEXT_RUNTIME === "nodejs") {
    const { serverEnv } = await import("./lib/env");
    try {
      serverEnv();
    } catch (e) {
      console.error(e instanceof Error ? e.message : e);
      process.exit(1);
    }
  }
}
