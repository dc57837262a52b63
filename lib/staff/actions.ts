// Definitions of the staff console's server actions (lib/actions/staff-actions.ts binds them to
// the session). Every one goes through runStaffAction: non-staff get not_found before their input
// is read. Inputs arrive from forms as strings, so numbers and flags are coerced here, strictly.
import { z } from "zod";
import { eq } from "drizzle-orm";
import type { Db } from "@/db/client";
import { organizations } from "@/db/schema";
import { defineStaffAction } from "../actions/staff-action";
import { createCoupon, deactivateCoupon } from "../coupons/admin";
import { adjustCredits, MAX_ADJUSTMENT } from "../ledger/adjustments";
import { AppError } from "../errors";
import { replayEvent } from "../webhooks/replay";
import { requestResync } from "../webhooks/resync";
import { requestRefund } from "../refunds/request";
import { reconcile } from "../reconcile/reconcile";

const slug = z.string().max(100, "Unknown organisation.").regex(/^[a-z0-9][a-z0-9-]*$/, "Unknown organisation.");
const wholeNumber = (msg: string) =>
  z.union([z.number(), z.string().trim().regex(/^-?\d{1,12}$/, msg).transform(Number)]).pipe(z.number().int(msg).refine(Number.isSafeInteger, msg));
const flag = z.union([z.boolean(), z.enum(["on", "true", "false", ""]).transform((v) => v === "on" || v === "true")]).optional().default(false);
const optionalText = z.string().trim().max(500, "Too long.").optional().transform((v) => (v ? v : undefined));
// Free text (reasons, descriptions): shown escaped by React, stored as text; control characters
// (NUL cannot be stored at all) and lone surrogates are refused.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;
const freeText = (min: number, max: number, what: string) =>
  z
    .string()
    .trim()
    .min(min, min > 0 ? `${what} is required.` : undefined)
    .max(max, `Keep it under ${max} characters.`)
    .refine((v) => !CONTROL.test(v), "Remove the control characters.")
    // A lone surrogate (JSON can carry "\ud800") is not text UTF-8 can store: it failed later,
    // as an internal error. \p{Cs} under the u flag matches only unpaired ones.
    .refine((v) => !/\p{Cs}/u.test(v), "Remove the broken characters.");

async function orgIdBySlug(db: Db, s: string): Promise<string> {
  const [org] = await db.select({ id: organizations.id }).from(organizations).where(eq(organizations.slug, s));
  if (!org) throw new AppError("not_found", "Organisation not found.");
  return org.id;
}

export const adjustCreditsDef = defineStaffAction({
  name: "adjustCredits",
  schema: z.object({
    orgSlug: slug,
    kind: z.enum(["bonus", "correction"]),
    amount: wholeNumber("Enter a whole number of credits.").refine((n) => n !== 0 && Math.abs(n) <= MAX_ADJUSTMENT, "Enter a non-zero number of credits within the limit."),
    reason: freeText(3, 500, "A reason"),
    requestId: z.string().uuid(),
  }),
  handler: async ({ db, staff, input }) => {
    const orgId = await orgIdBySlug(db, input.orgSlug);
    const { entry, created } = await adjustCredits(db, { orgId, kind: input.kind, amount: input.amount, reason: input.reason, actorUserId: staff.id, requestId: input.requestId });
    return { entryId: entry.id, balanceAfter: entry.balanceAfter, created };
  },
});

export const createCouponDef = defineStaffAction({
  name: "createCoupon",
  schema: z
    .object({
      code: z.string().trim().regex(/^[A-Za-z0-9_-]{3,40}$/, "Codes are 3–40 letters, digits, - or _."),
      description: freeText(0, 200, "A description").optional().default(""),
      discountType: z.enum(["percent", "amount"]),
      percentOff: optionalText,
      amountOff: optionalText,
      currency: z.string().trim().toLowerCase().regex(/^[a-z]{3}$/, "A three-letter currency code.").optional().or(z.literal("").transform(() => undefined)),
      maxRedemptions: optionalText,
      expiresAt: optionalText,
      firstPurchaseOnly: flag,
      oncePerOrg: flag,
    })
    .transform((v, ctx) => {
      const int = (s: string | undefined, path: string, min: number, max: number) => {
        if (s === undefined) return undefined;
        if (!/^\d{1,12}$/.test(s) || Number(s) < min || Number(s) > max) {
          ctx.addIssue({ code: "custom", path: [path], message: `A whole number from ${min} to ${max}.` });
          return undefined;
        }
        return Number(s);
      };
      const percentOff = v.discountType === "percent" ? int(v.percentOff, "percentOff", 1, 100) : undefined;
      const amountOff = v.discountType === "amount" ? int(v.amountOff, "amountOff", 1, 100_000_000) : undefined;
      if (v.discountType === "percent" && percentOff === undefined && v.percentOff === undefined) ctx.addIssue({ code: "custom", path: ["percentOff"], message: "Enter the percent off." });
      if (v.discountType === "amount" && amountOff === undefined && v.amountOff === undefined) ctx.addIssue({ code: "custom", path: ["amountOff"], message: "Enter the amount off." });
      if (v.discountType === "amount" && !v.currency) ctx.addIssue({ code: "custom", path: ["currency"], message: "An amount off needs a currency." });
      const maxRedemptions = int(v.maxRedemptions, "maxRedemptions", 1, 10_000_000) ?? null;
      let expiresAt: Date | null = null;
      if (v.expiresAt) {
        const d = new Date(v.expiresAt);
        if (Number.isNaN(d.getTime())) ctx.addIssue({ code: "custom", path: ["expiresAt"], message: "Enter a date." });
        else expiresAt = d;
      }
      return { ...v, percentOff, amountOff, maxRedemptions, expiresAt };
    }),
  handler: async ({ db, staff, input }) => {
    const discount = input.discountType === "percent" ? { percentOff: input.percentOff! } : { amountOff: input.amountOff!, currency: input.currency! };
    const coupon = await createCoupon(db, staff.id, {
      code: input.code,
      description: input.description,
      discount,
      maxRedemptions: input.maxRedemptions,
      expiresAt: input.expiresAt,
      firstPurchaseOnly: input.firstPurchaseOnly,
      oncePerOrg: input.oncePerOrg,
    });
    return { couponId: coupon.id, code: coupon.code };
  },
});

export const deactivateCouponDef = defineStaffAction({
  name: "deactivateCoupon",
  schema: z.object({ couponId: z.string().uuid("Unknown coupon.") }),
  handler: async ({ db, staff, input }) => {
    const c = await deactivateCoupon(db, staff.id, input.couponId);
    return { couponId: c.id, active: c.active };
  },
});

export const replayEventDef = defineStaffAction({
  name: "replayEvent",
  schema: z.object({ eventId: z.string().regex(/^evt_[A-Za-z0-9_]{1,100}$/, "Unknown event.") }),
  handler: ({ db, staff, input }) => replayEvent(db, staff.id, input.eventId),
});

export const resyncEventsDef = defineStaffAction({
  name: "resyncEvents",
  schema: z.object({
    since: z
      .string()
      .trim()
      .min(1, "Enter a date.")
      .transform((s, ctx) => {
        const d = new Date(s);
        if (Number.isNaN(d.getTime())) ctx.addIssue({ code: "custom", message: "Enter a date." });
        else if (d.getTime() > Date.now()) ctx.addIssue({ code: "custom", message: "The date is in the future." });
        else if (Date.now() - d.getTime() > 30 * 24 * 3600 * 1000) ctx.addIssue({ code: "custom", message: "Stripe keeps events for 30 days." });
        return d;
      }),
  }),
  // Queued, not run here: a large backlog must not make the request slow (ops.resync-events).
  handler: ({ db, staff, input }) => requestResync(db, staff.id, input.since),
});

export const refundPurchaseDef = defineStaffAction({
  name: "refundPurchase",
  schema: z.object({
    purchaseId: z.string().uuid("Unknown purchase."),
    // "" (the form's blank field): the rest of the payment. Otherwise minor units.
    amount: z
      .union([z.literal("").transform(() => null), wholeNumber("Enter a whole amount in minor units.")])
      .refine((v) => v === null || (v > 0 && v <= 100_000_000), "Enter a positive amount in minor units."),
    reason: freeText(3, 500, "A reason"),
    // The form's (StaffForm): a resubmission carries the same one and gets the same refund back.
    requestId: z.string().uuid(),
  }),
  handler: async ({ db, staff, input }) => {
    const r = await requestRefund(db, { actorUserId: staff.id, purchaseId: input.purchaseId, amount: input.amount, reason: input.reason, requestId: input.requestId });
    return { refundId: r.id, amount: r.amount, status: r.status };
  },
});

export const runReconciliationDef = defineStaffAction({
  name: "runReconciliation",
  schema: z.object({ mode: z.enum(["report", "fix"]) }),
  handler: async ({ db, staff, input }) => {
    const run = await reconcile(db, { actorUserId: staff.id, fix: input.mode === "fix" });
    return { runId: run.id, findings: (run.findings as unknown[]).length, fixed: run.fixed };
  },
});
