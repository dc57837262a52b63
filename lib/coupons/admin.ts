// The staff side of the coupon catalogue: create a coupon, retire it (deactivate; coupons are
// never deleted, their redemptions refer to them), and read the catalogue with its use. Each
// change is audited in its own transaction. Redemption writes stay in ./redemptions.ts.
import { desc, eq, sql } from "drizzle-orm";
import type { Db, DbOrTx } from "@/db/client";
import { couponRedemptions, coupons, organizations, purchases, type Coupon } from "@/db/schema";
import { recordAudit } from "../audit/audit";
import { AppError } from "../errors";
import { isSupportedCurrency } from "../money/currencies";
import { normalizeCouponCode } from "./rules";

export type NewCoupon = {
  code: string;
  description: string;
  discount: { percentOff: number } | { amountOff: number; currency: string };
  maxRedemptions: number | null;
  expiresAt: Date | null;
  firstPurchaseOnly: boolean;
  oncePerOrg: boolean;
};

export async function createCoupon(db: Db, actorUserId: string, input: NewCoupon): Promise<Coupon> {
  const code = normalizeCouponCode(input.code);
  if (!/^[A-Z0-9_-]{3,40}$/.test(code)) throw new AppError("invalid_input", "Codes are 3–40 letters, digits, - or _.");
  if ("percentOff" in input.discount) {
    const p = input.discount.percentOff;
    if (!Number.isInteger(p) || p < 1 || p > 100) throw new AppError("invalid_input", "Percent off is a whole number from 1 to 100.");
  } else {
    if (!Number.isSafeInteger(input.discount.amountOff) || input.discount.amountOff <= 0) throw new AppError("invalid_input", "Amount off is a positive amount in minor units.");
    if (!isSupportedCurrency(input.discount.currency.toLowerCase())) throw new AppError("invalid_input", "Unsupported currency.");
  }
  if (input.maxRedemptions !== null && (!Number.isSafeInteger(input.maxRedemptions) || input.maxRedemptions <= 0)) {
    throw new AppError("invalid_input", "The redemption limit is a positive whole number.");
  }
  if (input.expiresAt && input.expiresAt.getTime() <= Date.now()) throw new AppError("invalid_input", "The expiry must be in the future.");
  return db.transaction(async (tx) => {
    const inserted = await tx
      .insert(coupons)
      .values({
        code,
        description: input.description.trim(),
        percentOff: "percentOff" in input.discount ? input.discount.percentOff : null,
        amountOff: "amountOff" in input.discount ? input.discount.amountOff : null,
        currency: "amountOff" in input.discount ? input.discount.currency.toLowerCase() : null,
        maxRedemptions: input.maxRedemptions,
        expiresAt: input.expiresAt,
        firstPurchaseOnly: input.firstPurchaseOnly,
        oncePerOrg: input.oncePerOrg,
      })
      .onConflictDoNothing({ target: coupons.code })
      .returning();
    const coupon = inserted[0];
    if (!coupon) throw new AppError("conflict", "A coupon with this code already exists.");
    await recordAudit(tx, {
      actorUserId,
      action: "coupon.create",
      target: { type: "coupon", id: coupon.id },
      details: { code, ...input.discount, maxRedemptions: input.maxRedemptions, expiresAt: input.expiresAt?.toISOString() ?? null, firstPurchaseOnly: input.firstPurchaseOnly, oncePerOrg: input.oncePerOrg },
    });
    return coupon;
  });
}

/** Retires a coupon: new checkouts refuse it; holds already taken run their course. */
export async function deactivateCoupon(db: Db, actorUserId: string, couponId: string): Promise<Coupon> {
  return db.transaction(async (tx) => {
    const [row] = await tx.select().from(coupons).where(eq(coupons.id, couponId)).for("update");
    if (!row) throw new AppError("not_found", "Coupon not found.");
    if (!row.active) return row;
    const [updated] = await tx.update(coupons).set({ active: false }).where(eq(coupons.id, couponId)).returning();
    await recordAudit(tx, { actorUserId, action: "coupon.deactivate", target: { type: "coupon", id: couponId }, details: { code: row.code } });
    return updated!;
  });
}

export async function listCouponsWithUse(db: DbOrTx) {
  return db
    .select({
      coupon: coupons,
      redeemed: sql<number>`count(${couponRedemptions.id}) filter (where ${couponRedemptions.status} = 'redeemed')::int`,
      held: sql<number>`count(${couponRedemptions.id}) filter (where ${couponRedemptions.status} = 'held')::int`,
    })
    .from(coupons)
    .leftJoin(couponRedemptions, eq(couponRedemptions.couponId, coupons.id))
    .groupBy(coupons.id)
    .orderBy(desc(coupons.createdAt));
}

export async function listRedemptions(db: DbOrTx, couponId: string, limit = 100) {
  return db
    .select({
      id: couponRedemptions.id,
      status: couponRedemptions.status,
      overRedemption: couponRedemptions.overRedemption,
      orgSlug: organizations.slug,
      orgName: organizations.name,
      purchaseId: couponRedemptions.purchaseId,
      purchaseStatus: purchases.status,
      discount: purchases.discount,
      currency: purchases.currency,
      at: couponRedemptions.updatedAt,
    })
    .from(couponRedemptions)
    .innerJoin(organizations, eq(organizations.id, couponRedemptions.orgId))
    .leftJoin(purchases, eq(purchases.id, couponRedemptions.purchaseId))
    .where(eq(couponRedemptions.couponId, couponId))
    .orderBy(desc(couponRedemptions.updatedAt))
    .limit(limit);
}
