// Runs once when the Next server starts: parse the environment so a misconfigured deployment
// fails immediately with the name of the missing variable, not on the first payment.
export async function register() {
  if (process.env.NEXT_RUNTIME === "nodejs") {
    const { serverEnv } = await import("./lib/env");
    serverEnv();
  }
}
