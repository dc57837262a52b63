// The only place that builds a Stripe client. Real mode: the secret key from the environment.
// Local mode: the same SDK pointed at the project's Stripe emulator through host/port/protocol.
// The API version is pinned to the one the installed SDK was generated for.
import "server-only";
import Stripe from "stripe";
import { serverEnv } from "../env";

export type StripeMode = "real" | "local";

/** The key the SDK sends to the emulator; the emulator accepts any sk_test_ key. */
const EMULATOR_KEY = "sk_test_creditloop_local_emulator";

export function stripeMode(): StripeMode {
  return serverEnv().STRIPE_SECRET_KEY ? "real" : "local";
}

/** Events we accept: live keys take livemode events only, test keys and the emulator test ones. */
export function expectedLivemode(): boolean {
  return serverEnv().STRIPE_SECRET_KEY?.includes("_live_") ?? false;
}

let client: Stripe | undefined;

export function stripe(): Stripe {
  if (client) return client;
  const env = serverEnv();
  const common = {
    apiVersion: Stripe.API_VERSION,
    maxNetworkRetries: 2,
    timeout: 20_000,
    appInfo: { name: "Creditloop" },
  } as const;
  if (env.STRIPE_SECRET_KEY) {
    client = new Stripe(env.STRIPE_SECRET_KEY, common);
  } else {
    const url = new URL(env.STRIPE_EMULATOR_URL!);
    client = new Stripe(EMULATOR_KEY, {
      ...common,
      host: url.hostname,
      port: url.port || (url.protocol === "https:" ? 443 : 80),
      protocol: url.protocol === "https:" ? "https" : "http",
    });
  }
  return client;
}

/** Webhook signing secrets in force; several while a secret is being rolled. */
export function webhookSecrets(): string[] {
  return serverEnv()
    .STRIPE_WEBHOOK_SECRET.split(",")
    .map((s) => s.trim())
    .filter(Boolean);
}
