// Staff refunds of a top-up. The request is a row (refunds, status pending) written with its
// audit row and the job that calls Stripe, in one transaction; the job (stripe.create-refund)
// calls refunds.create with the key `refund:<row id>`, so retries never refund twice. The credits
// are NOT taken back here: Stripe's `charge.refunded` does that (lib/refunds/reversal.ts), so a
// refund made in Stripe's dashboard is handled the same way.
//
// What can be refunded: a succeeded purchase, up to its amount minus what earlier requests
// (pending or succeeded) already asked for. The purchase row is locked while checking, so two
// concurrent requests cannot both take the last part.
//
// Idempotency: the staff form sends a request id and keeps it until it sees success, so a
// resubmission (lost response, reload, replayed post) carries the same one. The amount check
// alone does not catch it — a partial refund leaves room for a second — and a second row is a
// second Stripe key (refund:<row id>), so a second refund. The id is stored on the row (unique):
// a repeat returns the refund already made (no row, audit or job); the same id with another
// purchase or another amount (as asked: blank is "the rest") is refused and writes nothing.
import { and, eq, ne, sql } from "drizzle-orm";
import type { Db } from "@/db/client";
import { purchases, refunds, type Refund } from "@/db/schema";
import { recordAudit } from "../audit/audit";
import { AppError } from "../errors";
import { enqueue } from "../jobs/queue";
import { log } from "../log";
import { createStripeRefund, isPermanentRefundError } from "../stripe/refunds";

export type RefundRequest = { actorUserId: string; purchaseId: string; amount: number | null; reason: string; requestId: string };

export async function requestRefund(db: Db, p: RefundRequest): Promise<Refund> {
  const reason = p.reason.trim();
  if (reason.length < 3) throw new AppError("invalid_input", "A reason is required.");
  return db.transaction(async (tx) => {
    const [purchase] = await tx.select().from(purchases).where(eq(purchases.id, p.purchaseId)).for("update");
    if (!purchase) throw new AppError("not_found", "Purchase not found.");
    // Under the purchase's lock: an identical request running at the same time has committed its
    // row by now (or not started). Before the refundability checks, so a repeat of a refund that
    // took the rest gets that refund back, not "already refunded in full".
    const [earlier] = await tx.select().from(refunds).where(eq(refunds.requestId, p.requestId));
    if (earlier) return sameRequest(earlier, p);
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
      .values({ purchaseId: purchase.id, orgId: purchase.orgId, amount, currency: purchase.currency, reason, requestedBy: p.actorUserId, requestId: p.requestId, requestedAmount: p.amount })
      // The same id for another purchase, at the same time (another lock): it waits on the unique
      // index for that one to commit, inserts nothing, and is refused below.
      .onConflictDoNothing({ target: refunds.requestId })
      .returning();
    if (!row) {
      const [other] = await tx.select().from(refunds).where(eq(refunds.requestId, p.requestId));
      if (!other) throw new Error(`refund request ${p.requestId} conflicted but cannot be read`);
      return sameRequest(other, p);
    }
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

/** A repeat of an earlier request: its refund, as it is now; the id reused for another refund: refused. */
function sameRequest(earlier: Refund, p: RefundRequest): Refund {
  if (earlier.purchaseId !== p.purchaseId || earlier.requestedAmount !== p.amount) {
    throw new AppError("conflict", "This request was already used for a different refund. Reload the page and ask again.", { apiCode: "idempotency_key_reused" });
  }
  return earlier;
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
