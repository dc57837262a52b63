import type Stripe from "stripe";
import type { Tx } from "@/db/client";
import { applySetupIntent } from "../../balance-care/card-setup";
import { retrieveSetupIntent, savedCardOf } from "../../stripe/saved-cards";
import type { HandlerResult } from "./types";

/**
 * A card-saving attempt settled at Stripe (setup_intent.succeeded / .setup_failed / .canceled).
 * The event may be stale (a failure can arrive after a later success on the same SetupIntent),
 * so the SetupIntent is re-read and applied as Stripe reports it now, through the same
 * idempotent, ordered applySetupIntent the settings page's verification uses.
 */
export async function onSetupIntentChanged(
  tx: Tx,
  event: Stripe.SetupIntentSucceededEvent | Stripe.SetupIntentSetupFailedEvent | Stripe.SetupIntentCanceledEvent,
): Promise<HandlerResult> {
  const si = await retrieveSetupIntent(event.data.object.id);
  const pm = si.status === "succeeded" ? (typeof si.payment_method === "string" ? si.payment_method : (si.payment_method?.id ?? null)) : null;
  const card = pm ? await savedCardOf(pm) : null;
  const result = await applySetupIntent(tx, si, card, "webhook");
  return { detail: `setup intent ${si.id} (${si.status}): ${result.status}` };
}
