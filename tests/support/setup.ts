// Per-file setup for the integration project: makes the environment from global setup
// (provide/inject) the environment of this worker, before any app module reads lib/env.ts.
import { inject } from "vitest";

const env = inject("testEnv");
if (env) {
  Object.assign(process.env, env);
  delete process.env.STRIPE_SECRET_KEY;
  delete process.env.NEXT_PUBLIC_STRIPE_PUBLISHABLE_KEY;
}
