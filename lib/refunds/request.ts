// Staff refunds of a top-up. The request is a row (refunds, status pending) written with its
// audit row and the job that calls Stripe, in one transaction; the job (stripe.create-refund)
// calls refunds.create with the key `refund:<row id>`, so retries never refund twice. The credits
// are NOT taken back here: Stripe's `charge.refunded` does that (lib/refunds/reversal.ts), so a
// refund made in Stripe's dashboard is handled the same way.
//
// What can be refunded: a succeeded purchase, up to its amount minus what earlier requests
// (pending or succeeded) already asked for. The purchase row is locked while checking, so two
// concurrent requests cannot both take the last part.
import { and, eq, ne, sql } from "drizzle-orm";
import type { Db } from "@/db/client";
import { purchases, refunds, type Refund } from "@/db/schema";
import { recordAudit } from "../audit/audit";
import { AppError } from "../errors";
import { enqueue } from "../jobs/queue";
import { log } from "../log";
import { createStripeRefund, isPermanentRefundError } from "../stripe/refunds";

export async function requestRefund(db: Db, p: { actorUserId: string; purchaseId: string; amount: number | null; reason: string }): Promise<Refund> {
  const reason = p.reason.trim();
  if (reason.length < 3) throw new AppError("invalid_input", "A reason is required.");
  return db.transaction(async (tx) => {
    const [purchase] = await tx.select().from(purchases).where(eq(purchases.id, p.purchaseId)).for("update");
    if (!purchase) throw new AppError("not_found", "Purchase not found.");
    if (purchase.status !== "succeeded" || !purchase.stripePaymentIntentId) throw new AppError("conflict", "Only a succeeded payment can be refunded.");
    const [asked] = await tx
      .select({ total: sql<number>`coalesce(sum(${refunds.amount}), 0)::int` })
      .from(refunds)
      .where(and(eq(refunds.purchaseId, purchase.id), ne(refunds.status, "failed")));
    const refundable = purchase.amount - asked!.total;
    const amount = p.amount ?? refundable;
    if (!Number.isSafeInteger(amount) || amount <= 0) throw new AppError("invalid_input", "The amount must be a positive whole number of minor units.");
    if (refundable <= 0) throw new AppError("conflict", "This payment has already been refunded in full.");
    if (amount > refundable) throw new AppError("conflict", `At most ${refundable} can still be refunded.`);
    const [row] = await tx
      .insert(refunds)
      .values({ purchaseId: purchase.id, orgId: purchase.orgId, amount, currency: purchase.currency, reason, requestedBy: p.actorUserId })
      .returning();
    await recordAudit(tx, {
      actorUserId: p.actorUserId,
      action: "refund.request",
      target: { type: "purchase", id: purchase.id },
      orgId: purchase.orgId,
      details: { refundId: row!.id, amount, currency: purchase.currency, reason, paymentIntentId: purchase.stripePaymentIntentId },
    });
    await enqueue(tx, "stripe.create-refund", { refundId: row!.id }, { singletonKey: row!.id });
    return row!;
  });
}

/** The job: make the refund at Stripe (idempotent by key) and record Stripe's answer. */
export async function runCreateRefundJob(db: Db, data: { refundId: string }): Promise<{ status: string }> {
  const [row] = await db.select().from(refunds).where(eq(refunds.id, data.refundId));
  if (!row) return { status: "missing" };
  if (row.status !== "pending") return { status: row.status };
  const [purchase] = await db.select().from(purchases).where(eq(purchases.id, row.purchaseId));
  try {
    const refund = await createStripeRefund({ refundId: row.id, paymentIntentId: purchase!.stripePaymentIntentId!, amount: row.amount, purchaseId: row.purchaseId, orgId: row.orgId });
    const status = refund.status === "failed" || refund.status === "canceled" ? "failed" : "succeeded";
    await db
      .update(refunds)
      .set({ status, stripeRefundId: refund.id, failureMessage: status === "failed" ? (refund.failure_reason ?? "refund failed") : null, updatedAt: sql`now()` })
      .where(and(eq(refunds.id, row.id), eq(refunds.status, "pending")));
    return { status };
  } catch (e) {
    if (!isPermanentRefundError(e)) throw e; // network, rate limit, Stripe down: retried
    log.warn({ refundId: row.id, purchaseId: row.purchaseId, err: e }, "Stripe refused the refund");
    await db
      .update(refunds)
      .set({ status: "failed", failureMessage: e.message.slice(0, 500), updatedAt: sql`now()` })
      .where(and(eq(refunds.id, row.id), eq(refunds.status, "pending")));
    return { status: "failed" };
  }
}
