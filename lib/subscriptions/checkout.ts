// The hosted checkout path of a plan: a subscriptions row is reserved exactly as the embedded start
// does (status "creating", unique request id, the partial unique index "one live subscription per
// organisation"), then a Stripe Checkout Session in subscription mode is created for it with the
// idempotency key subscription:<row id>:checkout and subscription_data.metadata naming the row.
// Stripe creates the subscription when the customer pays; checkout.session.completed then syncs
// the row and applies the paid first invoice through the same code as invoice.paid (the grant is
// keyed by the invoice), so nothing here grants. An organisation's open checkout for the same plan
// is continued (same session); for another plan, its session is expired at Stripe first and only
// then is the unpaid row ended — a session that was paid meanwhile makes it the organisation's plan.
import { and, eq, isNull, sql } from "drizzle-orm";
import type { Db } from "@/db/client";
import { subscriptions, type Subscription } from "@/db/schema";
import { AppError } from "../errors";
import { log } from "../log";
import { planByKey, priceOf, type PlanInterval } from "../plans/catalogue";
import { overagePriceIdFor, stripePriceIdFor } from "../plans/sync";
import { createPlanCheckoutSession, expireCheckoutSession } from "../stripe/checkout";
import { reservePlanRow, withStripe, type PlanRowRequest } from "./subscribe";
import { trialDaysFor } from "./trial";

export type StartedPlanCheckout = { subscriptionId: string; url: string };

type Input = PlanRowRequest & { appUrl: string };

const ALREADY = "Your organisation already has a plan. Change it below instead.";
const STARTING_ON_PAGE = "This plan is being started on this page (another tab). Finish it there, or reload the page.";

export async function startPlanCheckout(db: Db, input: Input): Promise<StartedPlanCheckout> {
  const plan = planByKey(input.planKey);
  if (!plan) throw new AppError("not_found", "That plan is not available.");
  const priceId = await stripePriceIdFor(db, priceOf(plan, input.interval).lookupKey);
  if (!priceId) throw new AppError("not_found", "Plans are not available yet. Please try again later.");

  const row = await reservePlanRow(db, { ...input, planKey: plan.key, startedVia: "checkout" }, (live) => continueOrReplace(db, live, input));
  if (row.status !== "creating" || row.stripeSubscriptionId) throw new AppError("conflict", ALREADY);
  if (row.startedVia !== "checkout") throw new AppError("conflict", STARTING_ON_PAGE);
  const session = await withStripe(() => sessionFor(db, row, input.appUrl, input.org.slug));
  if (session.status !== "open" || !session.url) throw new AppError("conflict", "This plan's checkout has already finished. Reload the page.");
  log.info({ subscriptionId: row.id, orgId: input.org.id, checkoutSessionId: session.id }, "plan checkout session started");
  return { subscriptionId: row.id, url: session.url };
}

/** The row's Checkout Session: created once, the same one back on every retry (idempotency key). */
async function sessionFor(db: Db, row: Subscription, appUrl: string, slug: string) {
  const plan = planByKey(row.planKey)!;
  const priceId = await stripePriceIdFor(db, priceOf(plan, row.interval as PlanInterval).lookupKey);
  const page = `${appUrl.replace(/\/$/, "")}/orgs/${slug}/billing/plan`;
  return createPlanCheckoutSession({
    rowId: row.id,
    orgId: row.orgId,
    customerId: row.stripeCustomerId,
    priceId: priceId!,
    overagePriceId: row.interval === "month" ? await overagePriceIdFor(db, plan.key) : null,
    trialDays: await trialDaysFor(db, plan, row),
    successUrl: `${page}?checkout=complete&session_id={CHECKOUT_SESSION_ID}`,
    cancelUrl: page,
  });
}

/** Same plan still unpaid: continue it. Another plan: expire its session, then end the unpaid row. */
async function continueOrReplace(db: Db, live: Subscription, input: Input): Promise<Subscription | undefined> {
  if (live.status !== "creating" || live.stripeSubscriptionId) throw new AppError("conflict", ALREADY);
  // The page's own start, between its reservation and Stripe's answer: not ours to expire or continue.
  if (live.startedVia !== "checkout") throw new AppError("conflict", STARTING_ON_PAGE);
  if (live.planKey === input.planKey && live.interval === input.interval) return live;
  const session = await withStripe(async () => expireCheckoutSession((await sessionFor(db, live, input.appUrl, input.org.slug)).id));
  if (session.status === "complete") throw new AppError("conflict", "Your plan was just paid. Reload the page.");
  // Expired at Stripe: it can never be paid, so its row may end (guarded: still unlinked and creating).
  await db
    .update(subscriptions)
    .set({ status: "incomplete_expired", endedAt: sql`now()`, updatedAt: sql`now()` })
    .where(and(eq(subscriptions.id, live.id), eq(subscriptions.status, "creating"), isNull(subscriptions.stripeSubscriptionId)));
  log.info({ subscriptionId: live.id, orgId: live.orgId }, "unpaid plan checkout replaced by another plan choice");
  return undefined;
}
