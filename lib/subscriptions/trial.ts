// A plan's free trial is once per organisation: an organisation any of whose subscriptions ever
// had a trial (Stripe's trial_end, mirrored on the row) starts every later plan paying its first
// invoice, on the page and through hosted Checkout alike, and the Plan page no longer offers it.
// Without this, cancelling a trial and starting it again granted the trial's credits every time.
import { and, eq, isNotNull, ne } from "drizzle-orm";
import type { DbOrTx } from "@/db/client";
import { subscriptions } from "@/db/schema";
import type { Plan } from "../plans/catalogue";

/** Whether a subscription of the organisation (other than `exceptRowId`) has had a trial. */
export async function trialUsed(db: DbOrTx, orgId: string, exceptRowId?: string): Promise<boolean> {
  const [row] = await db
    .select({ id: subscriptions.id })
    .from(subscriptions)
    .where(and(eq(subscriptions.orgId, orgId), isNotNull(subscriptions.trialEnd), exceptRowId ? ne(subscriptions.id, exceptRowId) : undefined))
    .limit(1);
  return row !== undefined;
}

/**
 * The trial days the row's subscription is created with: the plan's, unless another subscription
 * of the organisation had a trial. The row itself is left out, so a retry of the same start (same
 * idempotency key at Stripe) sends the same parameters after its own trial was mirrored.
 */
export async function trialDaysFor(db: DbOrTx, plan: Pick<Plan, "trialDays">, row: { id: string; orgId: string }): Promise<number> {
  if (plan.trialDays <= 0) return 0;
  return (await trialUsed(db, row.orgId, row.id)) ? 0 : plan.trialDays;
}
