// Disputes: retrieve and list over the API; opened and closed only through the control surface
// (a test helper stands in for the cardholder's bank): POST /_emulator/charges/<ch>/dispute
// {amount?, reason?, inquiry?} opens one (charge.dispute.created, the charge marked disputed),
// and POST /_emulator/disputes/<dp>/close {status: "won" | "lost"} closes it
// (charge.dispute.closed). Inquiries (`inquiry: true`: status warning_needs_response, no money
// withdrawn) close as "warning_closed", or escalate to a chargeback with
// POST /_emulator/disputes/<dp>/escalate: status needs_response, charge.dispute.updated and
// charge.dispute.funds_withdrawn, as Stripe does.
import type Stripe from "stripe";
import { invalidRequest, missing } from "../errors";
import { newId } from "../ids";
import { ACCEPTED } from "../params";
import { listOf, type Ctx, type Route } from "./context";

function disputesOf(ctx: Ctx): Record<string, Stripe.Dispute> {
  return ctx.store.state.disputes;
}

export function openDispute(ctx: Ctx, chargeId: string, body: Record<string, unknown>): Stripe.Dispute {
  const charge = ctx.store.state.charges[chargeId];
  if (!charge) throw missing("charge", chargeId);
  if (charge.status !== "succeeded") throw invalidRequest("Only a succeeded charge can be disputed.");
  if (charge.disputed) throw invalidRequest("This charge is already disputed.");
  const amount = body.amount === undefined ? charge.amount - charge.amount_refunded : Number(body.amount);
  if (!Number.isInteger(amount) || amount <= 0 || amount > charge.amount) throw invalidRequest("amount must be a positive integer up to the charge amount", { param: "amount" });
  const dispute = {
    id: newId("dp"),
    object: "dispute",
    amount,
    balance_transactions: [],
    charge: charge.id,
    created: ctx.clock.now(),
    currency: charge.currency,
    enhanced_eligibility_types: [],
    evidence: {} as Stripe.Dispute.Evidence,
    evidence_details: { due_by: ctx.clock.now() + 7 * 86400, enhanced_eligibility: {}, has_evidence: false, past_due: false, submission_count: 0 },
    is_charge_refundable: false,
    livemode: false,
    metadata: {},
    payment_intent: typeof charge.payment_intent === "string" ? charge.payment_intent : (charge.payment_intent?.id ?? null),
    reason: typeof body.reason === "string" ? body.reason : "fraudulent",
    status: body.inquiry === true ? "warning_needs_response" : "needs_response",
  } as unknown as Stripe.Dispute;
  disputesOf(ctx)[dispute.id] = dispute;
  charge.disputed = true;
  ctx.store.wrote();
  ctx.outbox.emit("charge.dispute.created", dispute, null);
  return dispute;
}

const CLOSED: Stripe.Dispute.Status[] = ["won", "lost", "warning_closed", "prevented"];
const isInquiry = (d: Stripe.Dispute) => d.status.startsWith("warning_");

export function closeDispute(ctx: Ctx, disputeId: string, body: Record<string, unknown>): Stripe.Dispute {
  const dispute = disputesOf(ctx)[disputeId];
  if (!dispute) throw missing("dispute", disputeId);
  if (CLOSED.includes(dispute.status)) throw invalidRequest("This dispute is already closed.");
  // An inquiry closes without a chargeback; only a chargeback is won or lost.
  const allowed = isInquiry(dispute) ? ["warning_closed"] : ["won", "lost"];
  if (!allowed.includes(String(body.status))) throw invalidRequest(`status must be ${allowed.map((a) => `"${a}"`).join(" or ")}`, { param: "status" });
  const previous = { status: dispute.status };
  dispute.status = body.status as Stripe.Dispute.Status;
  ctx.store.wrote();
  ctx.outbox.emit("charge.dispute.closed", dispute, null, previous);
  return dispute;
}

/** The bank turns an open inquiry into a chargeback: the same dispute, now needs_response, funds withdrawn. */
export function escalateDispute(ctx: Ctx, disputeId: string): Stripe.Dispute {
  const dispute = disputesOf(ctx)[disputeId];
  if (!dispute) throw missing("dispute", disputeId);
  if (dispute.status !== "warning_needs_response" && dispute.status !== "warning_under_review") throw invalidRequest("Only an open inquiry can be escalated.");
  const previous = { status: dispute.status };
  dispute.status = "needs_response";
  ctx.store.wrote();
  ctx.outbox.emit("charge.dispute.updated", dispute, null, previous);
  ctx.outbox.emit("charge.dispute.funds_withdrawn", dispute, null);
  return dispute;
}

/** Control surface (/_emulator/…) for disputes; returns null when the path is not ours. */
export function handleDisputeControl(ctx: Ctx, method: string, path: string, body: Record<string, unknown>): { status: number; body: unknown } | null {
  let m: RegExpMatchArray | null;
  if (method === "POST" && (m = path.match(/^\/_emulator\/charges\/([^/]+)\/dispute$/))) return { status: 200, body: openDispute(ctx, m[1]!, body) };
  if (method === "POST" && (m = path.match(/^\/_emulator\/disputes\/([^/]+)\/close$/))) return { status: 200, body: closeDispute(ctx, m[1]!, body) };
  if (method === "POST" && (m = path.match(/^\/_emulator\/disputes\/([^/]+)\/escalate$/))) return { status: 200, body: escalateDispute(ctx, m[1]!) };
  return null;
}

export const disputeRoutes: Route[] = [
  {
    method: "GET",
    pattern: /^\/v1\/disputes\/([^/]+)$/,
    accepts: ACCEPTED.disputeRetrieve,
    returns: "dispute",
    handle: (ctx, m) => {
      const d = disputesOf(ctx)[m[1]!];
      if (!d) throw missing("dispute", m[1]!);
      return { body: d };
    },
  },
  {
    method: "GET",
    pattern: /^\/v1\/disputes$/,
    accepts: ACCEPTED.disputeList,
    returns: "list:dispute",
    handle: (ctx) => ({ body: listOf("/v1/disputes", Object.values(disputesOf(ctx)).reverse(), ctx.params) }),
  },
];
