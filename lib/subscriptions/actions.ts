// Definitions of the plan server actions (lib/actions/plan-actions.ts binds them to the session).
// Every change is for organisation admins; members and staff may only read the status.
import { z } from "zod";
import { defineOrgAction, orgSlugField } from "../actions/org-action";
import { PLANS } from "../plans/catalogue";
import { TEST_PAYMENT_METHODS } from "../stripe/test-cards";
import { serverEnv } from "../env";
import { authenticateFirstInvoice, confirmFirstInvoiceWithTestCard, startSubscription, subscriptionStatus } from "./subscribe";
import { startPlanCheckout } from "./checkout";
import { appUrl, requireHostedCheckout } from "../checkout/config";
import { cancelScheduledChange, changePlan, portalUrl, previewChange, setCancellation } from "./changes";

const planKey = z.enum(PLANS.map((p) => p.key) as [string, ...string[]], { error: "Choose a plan." });
const interval = z.enum(["month", "year"], { error: "Choose monthly or annual billing." });

export const startSubscriptionDef = defineOrgAction({
  name: "startSubscription",
  role: "admin",
  schema: z.object({ orgSlug: orgSlugField, planKey, interval, requestId: z.string().uuid() }),
  handler: ({ db, access, input }) => startSubscription(db, { org: access.org, userId: access.user.id, planKey: input.planKey, interval: input.interval, requestId: input.requestId }),
});

export const confirmSubscriptionTestCardDef = defineOrgAction({
  name: "confirmSubscriptionTestCard",
  role: "admin",
  schema: z.object({ orgSlug: orgSlugField, subscriptionId: z.string().uuid(), paymentMethod: z.enum(TEST_PAYMENT_METHODS) }),
  handler: ({ db, access, input }) => confirmFirstInvoiceWithTestCard(db, { orgId: access.org.id, subscriptionId: input.subscriptionId, paymentMethod: input.paymentMethod }),
});

export const authenticateSubscriptionPaymentDef = defineOrgAction({
  name: "authenticateSubscriptionPayment",
  role: "admin",
  schema: z.object({ orgSlug: orgSlugField, subscriptionId: z.string().uuid(), outcome: z.enum(["succeed", "fail"]) }),
  handler: ({ db, access, input }) => authenticateFirstInvoice(db, { orgId: access.org.id, subscriptionId: input.subscriptionId, outcome: input.outcome }),
});

export const subscriptionStatusDef = defineOrgAction({
  name: "subscriptionStatus",
  role: "read",
  schema: z.object({ orgSlug: orgSlugField, subscriptionId: z.string().uuid() }),
  handler: ({ db, access, input }) => subscriptionStatus(db, { orgId: access.org.id, subscriptionId: input.subscriptionId }),
});

export const previewPlanChangeDef = defineOrgAction({
  name: "previewPlanChange",
  role: "admin",
  schema: z.object({ orgSlug: orgSlugField, planKey, interval }),
  handler: ({ db, access, input }) => previewChange(db, { orgId: access.org.id, planKey: input.planKey, interval: input.interval }),
});

export const changePlanDef = defineOrgAction({
  name: "changePlan",
  role: "admin",
  schema: z.object({ orgSlug: orgSlugField, planKey, interval, requestId: z.string().uuid() }),
  handler: ({ db, access, input }) => changePlan(db, { orgId: access.org.id, actorUserId: access.user.id, planKey: input.planKey, interval: input.interval, requestId: input.requestId }),
});

export const cancelScheduledChangeDef = defineOrgAction({
  name: "cancelScheduledChange",
  role: "admin",
  schema: z.object({ orgSlug: orgSlugField, requestId: z.string().uuid() }),
  handler: ({ db, access, input }) => cancelScheduledChange(db, { orgId: access.org.id, actorUserId: access.user.id, requestId: input.requestId }),
});

export const setPlanCancellationDef = defineOrgAction({
  name: "setPlanCancellation",
  role: "admin",
  // "cancel_at_period_end" ends the plan when the paid period ends; "keep" undoes that.
  schema: z.object({ orgSlug: orgSlugField, choice: z.enum(["cancel_at_period_end", "keep"]), requestId: z.string().uuid() }),
  handler: ({ db, access, input }) =>
    setCancellation(db, { orgId: access.org.id, actorUserId: access.user.id, cancelAtPeriodEnd: input.choice === "cancel_at_period_end", requestId: input.requestId }),
});

export const openBillingPortalDef = defineOrgAction({
  name: "openBillingPortal",
  role: "admin",
  // "fix_card": straight to updating the card (the past-due banner's link); "manage": the portal.
  schema: z.object({ orgSlug: orgSlugField, purpose: z.enum(["manage", "fix_card"]) }),
  handler: ({ db, access, input }) => {
    const base = serverEnv().NEXTAUTH_URL ?? "http://localhost:3000";
    return portalUrl(db, { orgId: access.org.id, returnUrl: new URL(`/orgs/${access.org.slug}/billing/plan`, base).toString(), purpose: input.purpose });
  },
});

/** The hosted checkout path: the plan started on Stripe Checkout (lib/subscriptions/checkout.ts). */
export const startPlanCheckoutDef = defineOrgAction({
  name: "startPlanCheckout",
  role: "admin",
  schema: z.object({ orgSlug: orgSlugField, planKey, interval, requestId: z.string().uuid() }),
  handler: ({ db, access, input }) => {
    requireHostedCheckout();
    return startPlanCheckout(db, { org: access.org, userId: access.user.id, planKey: input.planKey, interval: input.interval, requestId: input.requestId, appUrl: appUrl() });
  },
});
