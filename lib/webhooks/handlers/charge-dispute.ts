import type Stripe from "stripe";
import type { Tx } from "@/db/client";
import { applyDispute } from "../../refunds/reversal";
import { retrieveDispute } from "../../stripe/refunds";
import type { HandlerResult } from "./types";

type DisputeEvent = Stripe.ChargeDisputeCreatedEvent | Stripe.ChargeDisputeUpdatedEvent | Stripe.ChargeDisputeFundsWithdrawnEvent | Stripe.ChargeDisputeClosedEvent;

/**
 * Dispute opened, changed or closed: the event may be stale (closed can overtake created), so the
 * dispute is re-fetched and applied as Stripe reports it now. Updated and funds_withdrawn carry an
 * inquiry's escalation to a chargeback (no other event says the money has now left).
 */
export async function onChargeDispute(tx: Tx, event: DisputeEvent): Promise<HandlerResult> {
  const current = await retrieveDispute(event.data.object.id);
  return { detail: await applyDispute(tx, current) };
}
