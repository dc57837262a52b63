// Definitions of the top-up server actions (the "use server" exports in app/ only bind them to
// the session). Members may top up; coupons at checkout are for admins (lib/topups/start.ts).
import { z } from "zod";
import { defineOrgAction, orgSlugField } from "../actions/org-action";
import { TEST_PAYMENT_METHODS } from "../stripe/test-cards";
import { startTopUp } from "./start";
import { quoteTopUp } from "./quote";
import { authenticateTestPayment, confirmWithTestCard } from "./confirm";
import { purchaseStatus } from "./status";
import { cancelTopUp } from "./cancel";
import { AppError } from "../errors";
import type { OrgAccess } from "../auth/access";
import { startTopUpCheckout } from "./checkout";
import { requireHostedCheckout, appUrl } from "../checkout/config";

const couponField = z
  .string()
  .trim()
  .max(40, "Coupon codes are at most 40 characters.")
  .regex(/^[A-Za-z0-9_-]*$/, "Coupon codes contain only letters, digits, - and _.")
  .optional()
  .nullable();

export const quoteTopUpDef = defineOrgAction({
  name: "quoteTopUp",
  role: "member",
  schema: z.object({ orgSlug: orgSlugField, packId: z.string().uuid("Choose a credit pack."), couponCode: couponField }),
  handler: async ({ db, access, input }) => {
    if (input.couponCode && access.role !== "admin") throw new AppError("forbidden", "Only organisation admins can apply coupons.");
    return quoteTopUp(db, { orgId: access.org.id, packId: input.packId, couponCode: input.couponCode });
  },
});

/** Starting a top-up takes the same input on the embedded form and on hosted Checkout. */
const startTopUpSchema = z.object({
  orgSlug: orgSlugField,
  packId: z.string().uuid("Choose a credit pack."),
  couponCode: couponField,
  requestId: z.string().uuid(),
});

function startTopUpInput(access: OrgAccess, input: z.infer<typeof startTopUpSchema>) {
  return { org: access.org, userId: access.user.id, role: access.role!, packId: input.packId, couponCode: input.couponCode, requestId: input.requestId };
}

export const startTopUpDef = defineOrgAction({
  name: "startTopUp",
  role: "member",
  // The embedded form may also save the card for auto-recharge (admins; lib/topups/start.ts).
  schema: startTopUpSchema.extend({ saveCard: z.boolean().optional() }),
  handler: ({ db, access, input }) => startTopUp(db, { ...startTopUpInput(access, input), saveCard: input.saveCard }),
});

export const confirmTestCardDef = defineOrgAction({
  name: "confirmTestCard",
  role: "member",
  schema: z.object({ orgSlug: orgSlugField, purchaseId: z.string().uuid(), paymentMethod: z.enum(TEST_PAYMENT_METHODS) }),
  handler: ({ db, access, input }) =>
    confirmWithTestCard(db, { orgId: access.org.id, userId: access.user.id, role: access.role, purchaseId: input.purchaseId, paymentMethod: input.paymentMethod }),
});

export const authenticateTestPaymentDef = defineOrgAction({
  name: "authenticateTestPayment",
  role: "member",
  schema: z.object({ orgSlug: orgSlugField, purchaseId: z.string().uuid(), outcome: z.enum(["succeed", "fail"]) }),
  handler: ({ db, access, input }) =>
    authenticateTestPayment(db, { orgId: access.org.id, userId: access.user.id, role: access.role, purchaseId: input.purchaseId, outcome: input.outcome }),
});

export const purchaseStatusDef = defineOrgAction({
  name: "purchaseStatus",
  role: "read",
  schema: z.object({ orgSlug: orgSlugField, purchaseId: z.string().uuid() }),
  handler: ({ db, access, input }) => purchaseStatus(db, { orgId: access.org.id, purchaseId: input.purchaseId }),
});

export const cancelTopUpDef = defineOrgAction({
  name: "cancelTopUp",
  role: "member",
  schema: z.object({ orgSlug: orgSlugField, purchaseId: z.string().uuid() }),
  handler: ({ db, access, input }) => cancelTopUp(db, { orgId: access.org.id, userId: access.user.id, role: access.role, purchaseId: input.purchaseId }),
});

/** The hosted checkout path: the same purchase, paid on Stripe Checkout (lib/topups/checkout.ts). */
export const startTopUpCheckoutDef = defineOrgAction({
  name: "startTopUpCheckout",
  role: "member",
  schema: startTopUpSchema,
  handler: ({ db, access, input }) => {
    requireHostedCheckout();
    return startTopUpCheckout(db, { ...startTopUpInput(access, input), appUrl: appUrl() });
  },
});
