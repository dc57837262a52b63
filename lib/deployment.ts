// What kind of deployment this process is, and what production demands of its environment.
// Pure functions over an env record (no "server-only": the launcher scripts use them too).
//
// CREDITLOOP_DEPLOYMENT = dev | preview | production, set by the launchers (`npm run dev` → dev,
// `npm run preview` and the e2e server → preview, `npm start` → production). Unset, a process
// running with NODE_ENV=production (a bare `next start`) counts as production: the safe default.
// Demo access (the seeded demo accounts, the emulator, the test-card form) exists only in dev
// and preview.
import { DEMO_EMAILS } from "./demo/accounts";

export type Deployment = "dev" | "preview" | "production";
export type EnvRecord = Record<string, string | undefined>;

const DEPLOYMENTS: readonly Deployment[] = ["dev", "preview", "production"];

export function deploymentOf(env: EnvRecord): Deployment {
  const named = env.CREDITLOOP_DEPLOYMENT?.trim();
  if (named && (DEPLOYMENTS as readonly string[]).includes(named)) return named as Deployment;
  // A value we do not know is not a licence for demo access.
  if (named) return "production";
  return env.NODE_ENV === "production" ? "production" : "dev";
}

export function demoAccessAllowed(env: EnvRecord): boolean {
  return deploymentOf(env) !== "production";
}

/** Demo sign-ins are refused unless the deployment allows demo access. */
export function signInAllowedFor(email: string, env: EnvRecord): boolean {
  return demoAccessAllowed(env) || !DEMO_EMAILS.includes(email.trim().toLowerCase());
}

export const PRODUCTION_REQUIRED = [
  "DATABASE_URL",
  "STRIPE_SECRET_KEY",
  "NEXT_PUBLIC_STRIPE_PUBLISHABLE_KEY",
  "STRIPE_WEBHOOK_SECRET",
  "NEXTAUTH_SECRET",
  "NEXTAUTH_URL",
] as const;

const WHY: Record<(typeof PRODUCTION_REQUIRED)[number], string> = {
  DATABASE_URL: "the PostgreSQL database (postgres://…); production never starts an embedded one",
  STRIPE_SECRET_KEY: "sk_live_… (or sk_test_… for a staging deployment); production never falls back to the emulator",
  NEXT_PUBLIC_STRIPE_PUBLISHABLE_KEY: "pk_live_…/pk_test_… of the same mode; without it the payment form would offer test cards",
  STRIPE_WEBHOOK_SECRET: "whsec_… of the webhook endpoint (comma-separate several while rotating)",
  NEXTAUTH_SECRET: "a random secret of at least 32 characters signing the sessions",
  NEXTAUTH_URL: "the public https URL of the app",
};

function keyMode(key: string): "live" | "test" | null {
  const m = /^(?:sk|rk|pk)_(live|test)_/.exec(key);
  return (m?.[1] as "live" | "test" | undefined) ?? null;
}

function isUrl(value: string, protocols: string[]): boolean {
  try {
    return protocols.includes(new URL(value).protocol);
  } catch {
    return false;
  }
}

/**
 * Everything wrong with this environment for a production server, one line per problem (empty
 * when it may start). `npm start` prints these and exits non-zero before doing anything else;
 * instrumentation.ts checks again inside the server, so a bare `next start` refuses too.
 */
export function productionProblems(source: EnvRecord): string[] {
  const env = Object.fromEntries(Object.entries(source).map(([k, v]) => [k, v?.trim() ? v.trim() : undefined]));
  const problems: string[] = [];
  for (const name of PRODUCTION_REQUIRED) {
    if (!env[name]) problems.push(`${name} is required: ${WHY[name]}.`);
  }
  const named = env.CREDITLOOP_DEPLOYMENT;
  if (named && named !== "production") {
    problems.push(`CREDITLOOP_DEPLOYMENT=${named} is not production: demo deployments run with npm run preview, never npm start.`);
  }
  if (env.DATABASE_URL && !isUrl(env.DATABASE_URL, ["postgres:", "postgresql:"])) {
    problems.push("DATABASE_URL must be a postgres:// URL.");
  }
  const sk = env.STRIPE_SECRET_KEY;
  const pk = env.NEXT_PUBLIC_STRIPE_PUBLISHABLE_KEY;
  if (sk && !/^(sk|rk)_(live|test)_/.test(sk)) problems.push("STRIPE_SECRET_KEY must start with sk_live_, sk_test_, rk_live_ or rk_test_.");
  if (pk && !/^pk_(live|test)_/.test(pk)) problems.push("NEXT_PUBLIC_STRIPE_PUBLISHABLE_KEY must start with pk_live_ or pk_test_.");
  const skMode = sk ? keyMode(sk) : null;
  const pkMode = pk ? keyMode(pk) : null;
  if (skMode && pkMode && skMode !== pkMode) {
    problems.push(
      `STRIPE_SECRET_KEY is a ${skMode} key but NEXT_PUBLIC_STRIPE_PUBLISHABLE_KEY is a ${pkMode} key: both must be live or both test.`,
    );
  }
  if (env.STRIPE_EMULATOR_URL) {
    problems.push("STRIPE_EMULATOR_URL is set: production talks to Stripe only, never to the local emulator (unset it).");
  }
  if (env.NEXTAUTH_SECRET && env.NEXTAUTH_SECRET.length < 32) problems.push("NEXTAUTH_SECRET must be at least 32 characters.");
  if (env.NEXTAUTH_URL && !isUrl(env.NEXTAUTH_URL, ["http:", "https:"])) problems.push("NEXTAUTH_URL must be an http(s) URL.");
  return problems;
}

/**
 * What a demo deployment (dev, preview) must not have, one line per problem: live Stripe keys.
 * Demo accounts with published passwords must never be able to move real money.
 */
export function demoProblems(source: EnvRecord): string[] {
  const problems: string[] = [];
  const deployment = deploymentOf(source);
  for (const name of ["STRIPE_SECRET_KEY", "NEXT_PUBLIC_STRIPE_PUBLISHABLE_KEY"]) {
    const value = source[name]?.trim();
    if (value && keyMode(value) === "live") {
      problems.push(`${name} is a live key: a ${deployment} deployment has demo accounts and takes test keys only (production: npm start).`);
    }
  }
  return problems;
}

/** The problems of this environment for what it claims to be. */
export function deploymentProblems(source: EnvRecord): string[] {
  return deploymentOf(source) === "production" ? productionProblems(source) : demoProblems(source);
}
