// Taking credits back when Stripe reports money going back: refunds (charge.refunded) and
// disputes (charge.dispute.created / .closed). Called by the webhook handlers in the event's
// transaction; every entry has a key derived from its cause, so replays and duplicates add
// nothing. These are the ONLY entries allowed to take a balance below zero (grantCredits does not
// refuse it); a negative balance stops spending (debits are guarded) until it is covered.
//
// Refunds: cumulative. The target reversal for a charge is the share of its amount_refunded
// (lib/refunds/shares.ts); the entry takes the difference from what refund reversals of this
// purchase already took, keyed `refund:<charge>:<amount_refunded>`.
// Disputes: act on the dispute as Stripe reports it NOW (the handler re-fetches it). Open or lost:
// its share is reversed (`dispute:<dp>`); won: the reversal, if any, is restored
// (`dispute:<dp>:won`). An inquiry (warning_*) or a prevented dispute withdraws no money: it is
// recorded and reverses nothing; an inquiry escalated to a chargeback (needs_response) is
// reversed then, once. The disputes table mirrors it; an open one flags the organisation.
// Balance care: a reversal below the low-balance threshold records the notification (once per
// crossing); it never starts auto-recharge (lib/balance-care/after-debit.ts says why).
// Before the grant: a refund or dispute can arrive before the payment's success is recorded
// (payment_intent.succeeded failed and waits for Stripe's retry). Its credits are not granted
// yet but still will be, so it throws GrantNotYetWritten: the webhook records the failure and
// answers 500, Stripe redelivers it, and the retry after the grant reverses as usual.
import { and, eq, isNull, like, or, sql } from "drizzle-orm";
import type Stripe from "stripe";
import type { Tx } from "@/db/client";
import { creditEntries, disputes, purchases, type Purchase, type PurchaseStatus } from "@/db/schema";
import { grantCredits } from "../ledger/ledger";
import { resumeCampaignsCoveredBy } from "../campaigns/service";
import { afterBalanceDrop } from "../balance-care/after-debit";
import { log } from "../log";
import { creditsForShare, refundReversalDelta } from "./shares";

const idOf = (x: string | { id: string } | null | undefined) => (typeof x === "string" ? x : (x?.id ?? null));

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A refund or dispute of a purchase whose grant is still to come: retried (see the header). */
export class GrantNotYetWritten extends Error {}

/**
 * Purchases whose credits a succeeded payment still grants (lib/topups/decide.ts: money in ⇒
 * credits in, even after a decline or a cancellation). needs_review is not one of them: it is
 * never granted by itself (a person decides, and sees the refund or dispute at Stripe), so
 * waiting for its grant would retry until Stripe gives up; it has nothing to reverse.
 */
const GRANT_STILL_COMING: readonly PurchaseStatus[] = ["pending", "failed", "canceled"];

function throwIfGrantStillComing(purchase: Purchase, what: string): void {
  if (!GRANT_STILL_COMING.includes(purchase.status)) return;
  throw new GrantNotYetWritten(`purchase ${purchase.id} is ${purchase.status}: its credits are not granted yet, so this ${what} waits for Stripe's retry after the grant`);
}

/** Our purchase an intent's (or its charge's) metadata names: purchase_id, or checkout_purchase_id for hosted checkout. */
function purchaseIdIn(metadata: Stripe.Metadata | null | undefined): string | null {
  const id = metadata?.purchase_id ?? metadata?.checkout_purchase_id;
  return id && UUID.test(id) ? id : null;
}

/**
 * Locks the purchase this intent pays: the one linked to it, else the one our metadata names
 * while it is linked to no intent yet (the webhook can overtake the link's write, and a hosted
 * checkout's intent is linked when its session completes), as lib/topups/settle.ts does.
 */
async function purchaseForIntent(tx: Tx, paymentIntentId: string | null, metadata?: Stripe.Metadata | null): Promise<Purchase | undefined> {
  if (!paymentIntentId) return undefined;
  const byMeta = purchaseIdIn(metadata);
  const linked = eq(purchases.stripePaymentIntentId, paymentIntentId);
  const [p] = await tx
    .select()
    .from(purchases)
    .where(byMeta ? or(linked, and(eq(purchases.id, byMeta), isNull(purchases.stripePaymentIntentId))) : linked)
    .orderBy(sql`${purchases.stripePaymentIntentId} is not distinct from ${paymentIntentId} desc`)
    .limit(1)
    .for("update");
  return p;
}

async function reversedSoFar(tx: Tx, purchaseId: string, keyPrefix: string): Promise<number> {
  const [r] = await tx
    .select({ s: sql<number>`coalesce(-sum(${creditEntries.amount}), 0)::int` })
    .from(creditEntries)
    .where(and(eq(creditEntries.purchaseId, purchaseId), eq(creditEntries.kind, "refund_reversal"), like(creditEntries.idempotencyKey, `${keyPrefix}%`)));
  return r!.s;
}

/** Credits disputes of this purchase currently hold back (reversals minus restores). */
async function disputeNet(tx: Tx, purchaseId: string): Promise<number> {
  const [r] = await tx
    .select({ s: sql<number>`coalesce(-sum(${creditEntries.amount}), 0)::int` })
    .from(creditEntries)
    .where(and(eq(creditEntries.purchaseId, purchaseId), like(creditEntries.idempotencyKey, "dispute:%")));
  return r!.s;
}

export async function reverseRefundedShare(tx: Tx, charge: Stripe.Charge): Promise<string> {
  // Stripe copies the intent's metadata to its charge, so an unlinked purchase is found too.
  const purchase = await purchaseForIntent(tx, idOf(charge.payment_intent), charge.metadata);
  if (!purchase) return "no purchase for this charge";
  throwIfGrantStillComing(purchase, "refund");
  if (purchase.status !== "succeeded") return `purchase ${purchase.id} is ${purchase.status}: no credits to reverse`;
  const already = await reversedSoFar(tx, purchase.id, `refund:${charge.id}:`);
  // Never take back more than the purchase granted, whatever a dispute already took (net of a
  // won dispute's restore). Stripe refuses refunds of disputed charges, but a dispute can follow
  // a partial refund.
  const disputedNet = await disputeNet(tx, purchase.id);
  const delta = Math.min(
    refundReversalDelta({ credits: purchase.credits, amount: purchase.amount, amountRefunded: charge.amount_refunded, alreadyReversed: already }),
    purchase.credits - already - disputedNet,
  );
  if (delta <= 0) return `purchase ${purchase.id}: nothing more to reverse`;
  const { entry, created } = await grantCredits(tx, {
    orgId: purchase.orgId,
    amount: -delta,
    kind: "refund_reversal",
    idempotencyKey: `refund:${charge.id}:${charge.amount_refunded}`,
    description: `Refund: ${charge.amount_refunded === charge.amount ? "full" : "partial"} refund of a top-up (${delta} credits reversed)`,
    purchaseId: purchase.id,
  });
  // A crossing warns the organisation; no auto-recharge for money that went back (after-debit.ts).
  if (created) await afterBalanceDrop(tx, { orgId: purchase.orgId, entry, autoRecharge: false });
  if (entry.balanceAfter < 0) log.warn({ orgId: purchase.orgId, purchaseId: purchase.id, balance: entry.balanceAfter }, "refund reversal left a negative balance: spending stops until covered");
  return `purchase ${purchase.id}: ${delta} credits reversed`;
}

/** Statuses Stripe no longer moves on from: the dispute's row gets its closed_at. */
const CLOSED: readonly Stripe.Dispute.Status[] = ["won", "lost", "warning_closed", "prevented"];

/**
 * Statuses under which no money has left: an inquiry (warning_*: the bank asks before any
 * chargeback, and may escalate it to one) and a dispute prevented before it became a chargeback
 * (a refund settles it instead, and charge.refunded reverses that). Appeals follow a lost
 * dispute, whose money stays withdrawn.
 */
const NO_MONEY_WITHDRAWN: readonly Stripe.Dispute.Status[] = ["warning_needs_response", "warning_under_review", "warning_closed", "prevented"];

export async function applyDispute(tx: Tx, dispute: Stripe.Dispute): Promise<string> {
  // The handler expands payment_intent, so an unlinked purchase is found by its metadata.
  const intent = typeof dispute.payment_intent === "object" ? dispute.payment_intent : null;
  const purchase = await purchaseForIntent(tx, idOf(dispute.payment_intent), intent?.metadata);
  if (!purchase) return "no purchase for this dispute";
  const moneyWithdrawn = !NO_MONEY_WITHDRAWN.includes(dispute.status);
  // Before the dispute row too: the retry records it, with the purchase it then reverses. (An
  // inquiry reverses nothing, so it need not wait for the grant.)
  if (moneyWithdrawn) throwIfGrantStillComing(purchase, "dispute");
  const closed = CLOSED.includes(dispute.status);
  await tx
    .insert(disputes)
    .values({ stripeDisputeId: dispute.id, orgId: purchase.orgId, purchaseId: purchase.id, chargeId: idOf(dispute.charge)!, amount: dispute.amount, status: dispute.status, reason: dispute.reason, closedAt: closed ? new Date() : null })
    .onConflictDoUpdate({ target: disputes.stripeDisputeId, set: { status: dispute.status, closedAt: closed ? sql`coalesce(${disputes.closedAt}, now())` : null } });
  // Recorded (staff see it), nothing taken: there is no money to take credits back for.
  if (!moneyWithdrawn) return `dispute ${dispute.id} ${dispute.status}: no money withdrawn, nothing reversed`;
  if (purchase.status !== "succeeded") return `purchase ${purchase.id} is ${purchase.status}: dispute recorded, no credits to reverse`;

  const key = `dispute:${dispute.id}`;
  const [reversal] = await tx.select().from(creditEntries).where(eq(creditEntries.idempotencyKey, key));
  if (dispute.status === "won") {
    if (!reversal) return `dispute ${dispute.id} won before any reversal: nothing to restore`;
    const { entry, created } = await grantCredits(tx, {
      orgId: purchase.orgId,
      amount: -reversal.amount,
      kind: "adjustment",
      idempotencyKey: `${key}:won`,
      description: `Dispute won: ${-reversal.amount} credits restored`,
      purchaseId: purchase.id,
    });
    if (created) await resumeCampaignsCoveredBy(tx, purchase.orgId, entry.balanceAfter);
    return `dispute ${dispute.id} won: credits restored`;
  }
  if (reversal) return `dispute ${dispute.id} ${dispute.status}: already reversed`;
  // Never take back more than the purchase still has un-reversed (a refund may have come first).
  const refunded = await reversedSoFar(tx, purchase.id, "refund:");
  const credits = Math.min(creditsForShare({ credits: purchase.credits, amount: purchase.amount, share: dispute.amount }), purchase.credits - refunded);
  if (credits <= 0) return `dispute ${dispute.id}: nothing left to reverse`;
  const { entry, created } = await grantCredits(tx, {
    orgId: purchase.orgId,
    amount: -credits,
    kind: "refund_reversal",
    idempotencyKey: key,
    description: `Dispute opened (${dispute.reason ?? "unknown reason"}): ${credits} credits reversed`,
    purchaseId: purchase.id,
  });
  if (created) await afterBalanceDrop(tx, { orgId: purchase.orgId, entry, autoRecharge: false });
  log.warn({ orgId: purchase.orgId, purchaseId: purchase.id, disputeId: dispute.id, balance: entry.balanceAfter }, "dispute opened: credits reversed, organisation flagged");
  return `dispute ${dispute.id} ${dispute.status}: ${credits} credits reversed`;
}
