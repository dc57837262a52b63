// Definitions of the balance-care server actions (bound to the session in
// lib/actions/balance-actions.ts). All are for organisation admins.
import { z } from "zod";
import { defineOrgAction, orgSlugField } from "../actions/org-action";
import { SETUP_TEST_PAYMENT_METHODS } from "../stripe/saved-cards";
import { saveCard, setAutoRecharge, setLowBalanceThreshold } from "./settings";
import { startCardSetup, verifyCardSetup } from "./card-setup";

const credits = z
  .number({ message: "Enter a whole number of credits." })
  .int("Enter a whole number of credits.")
  .min(1, "Enter at least 1 credit.")
  .max(100_000_000, "That is more credits than a threshold can be.");

export const setLowBalanceThresholdDef = defineOrgAction({
  name: "setLowBalanceThreshold",
  role: "admin",
  schema: z.object({ orgSlug: orgSlugField, threshold: credits.nullable() }),
  handler: async ({ db, access, input }) => {
    const s = await setLowBalanceThreshold(db, { orgId: access.org.id, threshold: input.threshold, userId: access.user.id });
    return { lowBalanceThreshold: s.lowBalanceThreshold };
  },
});

export const saveCardDef = defineOrgAction({
  name: "saveCard",
  role: "admin",
  schema: z.object({ orgSlug: orgSlugField, requestId: z.string().uuid(), paymentMethod: z.enum(SETUP_TEST_PAYMENT_METHODS) }),
  handler: async ({ db, access, input }) => {
    const s = await saveCard(db, { org: access.org, userId: access.user.id, requestId: input.requestId, paymentMethod: input.paymentMethod });
    return { cardBrand: s.cardBrand, cardLast4: s.cardLast4 };
  },
});

/** Elements (real Stripe): a SetupIntent for this attempt; the browser confirms it with Stripe.js. */
export const startCardSetupDef = defineOrgAction({
  name: "startCardSetup",
  role: "admin",
  schema: z.object({ orgSlug: orgSlugField, requestId: z.string().uuid() }),
  handler: async ({ db, access, input }) => {
    const s = await startCardSetup(db, { org: access.org, userId: access.user.id, requestId: input.requestId });
    return { setupIntentId: s.setupIntentId, clientSecret: s.clientSecret };
  },
});

/** After Stripe.js confirmed (or on the return_url): the server reads the SetupIntent and applies it. */
export const verifyCardSetupDef = defineOrgAction({
  name: "verifyCardSetup",
  role: "admin",
  schema: z.object({ orgSlug: orgSlugField, setupIntentId: z.string().regex(/^seti_[A-Za-z0-9]{1,100}$/, "Not a card setup.") }),
  handler: async ({ db, access, input }) => {
    const r = await verifyCardSetup(db, { orgId: access.org.id, setupIntentId: input.setupIntentId });
    switch (r.status) {
      case "saved":
      case "superseded":
        return { status: r.status, cardBrand: r.card.brand, cardLast4: r.card.last4, message: null };
      case "failed":
        return { status: r.status, cardBrand: null, cardLast4: null, message: r.message };
      default:
        return { status: r.status, cardBrand: null, cardLast4: null, message: null };
    }
  },
});

export const setAutoRechargeDef = defineOrgAction({
  name: "setAutoRecharge",
  role: "admin",
  schema: z.object({ orgSlug: orgSlugField, enabled: z.boolean(), threshold: credits, packId: z.string().uuid("Choose a credit pack.") }),
  handler: async ({ db, access, input }) => {
    const s = await setAutoRecharge(db, { orgId: access.org.id, enabled: input.enabled, threshold: input.threshold, packId: input.packId, userId: access.user.id });
    return { enabled: s.autoRechargeEnabled, threshold: s.autoRechargeThreshold };
  },
});
