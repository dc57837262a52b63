// Helpers for subscription tests: the catalogue pushed to the emulator, organisations whose
// Stripe customer lives on a test clock (so renewals, trial ends and retries can be reached by
// advancing it), the clock advanced with its webhooks delivered, and a plan subscribed and paid.
import type Stripe from "stripe";
import type { Db } from "@/db/client";
import { stripeCustomers } from "@/db/schema";
import { runOrgAction } from "@/lib/actions/org-action";
import { syncCatalogue } from "@/lib/plans/sync";
import { stripe } from "@/lib/stripe/client";
import { confirmSubscriptionTestCardDef, startSubscriptionDef } from "@/lib/subscriptions/actions";
import { drainDeliveries } from "./emulator";
import { makeOrg, makeUser } from "./fixtures";

export const DAY = 86_400;

export async function syncPlans(db: Db) {
  return syncCatalogue(db, stripe());
}

/** An organisation (admin + member) whose Stripe customer is on a new test clock at `now`. */
export async function clockOrg(db: Db, frozen = Math.floor(Date.now() / 1000)) {
  const org = await makeOrg(db);
  const admin = await makeUser(db, { orgId: org.id, role: "admin" });
  const member = await makeUser(db, { orgId: org.id, role: "member" });
  const clock = await stripe().testHelpers.testClocks.create({ frozen_time: frozen, name: org.slug });
  const customer = await stripe().customers.create({ name: org.name, test_clock: clock.id, metadata: { org_id: org.id } });
  await db.insert(stripeCustomers).values({ orgId: org.id, stripeCustomerId: customer.id });
  return { org, admin, member, clock, customer, now: frozen };
}

/** Advances the clock to `to`, waits until everything due has run, and delivers the webhooks. */
export async function advanceTo(clockId: string, to: number) {
  await stripe().testHelpers.testClocks.advance(clockId, { frozen_time: to });
  for (let i = 0; i < 1000; i++) {
    const c = await stripe().testHelpers.testClocks.retrieve(clockId);
    if (c.status === "ready") break;
    await new Promise((r) => setTimeout(r, 20));
  }
  await drainDeliveries();
}

/** Starts a plan as the admin and pays its first invoice with a test card; waits for the webhooks. */
export async function subscribePaid(db: Db, w: Awaited<ReturnType<typeof clockOrg>>, planKey: string, interval: "month" | "year", card: "pm_card_visa" = "pm_card_visa") {
  const started = await runOrgAction(startSubscriptionDef, w.admin, { orgSlug: w.org.slug, planKey, interval, requestId: crypto.randomUUID() }, db);
  if (!started.ok) throw new Error(`subscribe: ${started.error}`);
  if (started.data.clientSecret) {
    const paid = await runOrgAction(confirmSubscriptionTestCardDef, w.admin, { orgSlug: w.org.slug, subscriptionId: started.data.subscriptionId, paymentMethod: card }, db);
    if (!paid.ok || paid.data.outcome !== "processing") throw new Error(`pay: ${JSON.stringify(paid)}`);
  }
  await drainDeliveries();
  return started.data;
}

export async function latestInvoice(subscriptionId: string): Promise<Stripe.Invoice> {
  const list = await stripe().invoices.list({ subscription: subscriptionId, limit: 1 });
  return list.data[0]!;
}
