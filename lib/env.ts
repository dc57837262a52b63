// The environment, parsed once. A missing or malformed variable fails with a message naming it;
// instrumentation.ts calls serverEnv() at server start so a misconfigured deploy fails at once.
import "server-only";
import { z } from "zod";

const required = { error: (issue: { input?: unknown }) => (issue.input === undefined ? "is required" : "must be a string") };

const schema = z
  .object({
    DATABASE_URL: z.string(required).url({ message: "must be a postgres:// URL" }),
    STRIPE_SECRET_KEY: z
      .string()
      .regex(/^(sk|rk)_(test|live)_/, { message: "must start with sk_test_, sk_live_, rk_test_ or rk_live_" })
      .optional(),
    NEXT_PUBLIC_STRIPE_PUBLISHABLE_KEY: z
      .string()
      .regex(/^pk_(test|live)_/, { message: "must start with pk_test_ or pk_live_" })
      .optional(),
    STRIPE_WEBHOOK_SECRET: z.string(required).min(1, { message: "is required (comma-separate several while rotating)" }),
    STRIPE_EMULATOR_URL: z.string().url().optional(),
    NEXTAUTH_SECRET: z.string(required).min(16, { message: "must be at least 16 characters" }),
    NEXTAUTH_URL: z.string().url().optional(),
    // Days a past-due subscription keeps campaigns running before they pause for billing
    // (fractions allowed: the end-to-end tests use a few seconds).
    SUBSCRIPTION_GRACE_DAYS: z.coerce.number().min(0).max(60).default(7),
    // How payments start: "embedded" (the payment form on our pages, default) or "hosted"
    // (a Stripe Checkout Session: the top-up's Pay and the plan's Start go to Stripe's page).
    CHECKOUT_MODE: z.enum(["embedded", "hosted"], { message: "must be embedded or hosted" }).default("embedded"),
    // Metered overage (lib/usage/rules.ts meteringConfig reads them where they are used): push
    // usage to Stripe's meter every N minutes (1–59: inside Stripe's one-hour window for late
    // usage of an ended period) or as soon as M credits wait, whichever first.
    METER_PUSH_EVERY_MINUTES: z.coerce.number().int().min(1).max(59, { message: "must be an integer from 1 to 59" }).default(5),
    METER_PUSH_UNITS: z.coerce.number().int().min(1, { message: "must be a positive integer" }).default(1000),
  })
  .superRefine((env, ctx) => {
    if (!env.STRIPE_SECRET_KEY && !env.STRIPE_EMULATOR_URL) {
      ctx.addIssue({
        code: "custom",
        path: ["STRIPE_EMULATOR_URL"],
        message: "is required when STRIPE_SECRET_KEY is not set (local Stripe emulator mode; npm run dev sets it)",
      });
    }
  });

export type ServerEnv = z.infer<typeof schema>;

let cached: ServerEnv | undefined;

export function parseEnv(source: Record<string, string | undefined>): ServerEnv {
  const cleaned = Object.fromEntries(Object.entries(source).map(([k, v]) => [k, v === "" ? undefined : v]));
  const result = schema.safeParse(cleaned);
  if (!result.success) {
    const lines = result.error.issues.map((i) => `  ${i.path.join(".") || "(env)"} ${i.message}`);
    throw new Error(`Invalid environment:\n${lines.join("\n")}`);
  }
  return result.data;
}

export function serverEnv(): ServerEnv {
  cached ??= parseEnv(process.env);
  return cached;
}
