// Definition of the demo delivery server action (bound in lib/actions/delivery-actions.ts): the
// campaigns page's "Record a delivery" button takes the same path as the delivery API, keyed by
// the form's request id (a double click records one delivery). Demo deployments only (dev,
// preview): in production deliveries come from the platform through the API.
import { z } from "zod";
import { defineOrgAction, orgSlugField } from "../actions/org-action";
import { recordDelivery } from "./service";
import { AppError } from "../errors";
import { demoAccessAllowed } from "../deployment";

export const recordDemoDeliveryDef = defineOrgAction({
  name: "recordDemoDelivery",
  role: "admin",
  schema: z.object({ orgSlug: orgSlugField, campaignId: z.string().uuid("Unknown campaign."), requestId: z.string().uuid() }),
  handler: async ({ db, access, input }) => {
    if (!demoAccessAllowed(process.env)) throw new AppError("forbidden", "Deliveries are recorded by the delivery platform through the API; the demo button exists only in demo deployments.");
    const { delivery, replayed } = await recordDelivery(db, {
      orgId: access.org.id,
      campaignId: input.campaignId,
      idempotencyKey: `ui:${input.requestId}`,
      userId: access.user.id,
    });
    return { deliveryId: delivery.id, credits: delivery.credits, overageCredits: delivery.overageCredits, balanceAfter: delivery.balanceAfter, replayed };
  },
});
