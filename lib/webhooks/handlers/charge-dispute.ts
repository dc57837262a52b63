import type Stripe from "stripe";
import type { Tx } from "@/db/client";
import { applyDispute } from "../../refunds/reversal";
import { retrieveDispute } from "../../stripe/refunds";
import type { HandlerResult } from "./types";

/**
 * Dispute opened or closed: the event may be stale (closed can overtake created), so the dispute
 * is re-fetched and applied as Stripe reports it now.
 */
export async function onChargeDispute(tx: Tx, event: Stripe.ChargeDisputeCreatedEvent | Stripe.ChargeDisputeClosedEvent): Promise<HandlerResult> {
  const current = await retrieveDispute(event.data.object.id);
  return { detail: await applyDispute(tx, current) };
}
