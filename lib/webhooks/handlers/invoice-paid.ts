import type Stripe from "stripe";
import type { Tx } from "@/db/client";
import { applyPaidInvoice } from "../../subscriptions/grants";
import type { HandlerResult } from "./types";

/**
 * invoice.paid: the period's credits (or trial credits, or an upgrade's adjustment) once per
 * invoice — ledger key invoice:<in_…> — with the subscription mirror update and the campaign
 * resume (a billing pause lifted) in this same transaction.
 */
export async function onInvoicePaid(tx: Tx, event: Stripe.InvoicePaidEvent): Promise<HandlerResult> {
  const result = await applyPaidInvoice(tx, event.data.object);
  return { detail: result.detail };
}
