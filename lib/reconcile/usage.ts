// Reconciliation of metered overage (lib/usage/push.ts): per Stripe customer, the overage credits
// of our batches marked pushed whose event time falls in the last 30 days, against what Stripe's
// overage meter holds for that customer in the same minute-aligned window (event summaries).
// Only reported, never fixed: a batch pushed but not yet marked (the process stopped between the
// two) shows as Stripe holding more, and the next push run marks it (its identifier is a
// duplicate at Stripe); anything else needs a person.
//
// Finding (added to lib/reconcile/reconcile.ts's list):
//   usage_mismatch   our pushed overage credits ≠ the meter's total for the customer and window
import { sql } from "drizzle-orm";
import type { Db } from "@/db/client";
import { meterBatches } from "@/db/schema";
import { findOverageMeter, meterTotal } from "../stripe/meters";
import type { Finding } from "./reconcile";

const WINDOW_DAYS = 30;

export async function reconcileUsage(db: Db, ctx: { slugOf: (orgId: string | null) => string | null; now?: Date }): Promise<{ checked: number; findings: Finding[] }> {
  const end = Math.floor((ctx.now ?? new Date()).getTime() / 60_000) * 60; // seconds, on a minute
  const start = end - WINDOW_DAYS * 86_400;
  const rows = await db.execute<{ org_id: string; customer: string; pushed: number; unmarked: number }>(sql`
    select org_id, stripe_customer_id as customer,
           coalesce(sum(credits) filter (where pushed_at is not null), 0)::int as pushed,
           coalesce(sum(credits) filter (where pushed_at is null and failed_at is null), 0)::int as unmarked
    from ${meterBatches}
    where event_at >= to_timestamp(${start}) and event_at < to_timestamp(${end})
    group by 1, 2`);
  if (rows.length === 0) return { checked: 0, findings: [] };
  const findings: Finding[] = [];
  const meter = await findOverageMeter();
  for (const r of rows) {
    const theirs = meter ? await meterTotal(meter.id, r.customer, start, end) : 0;
    if (theirs === r.pushed) continue;
    const waiting = r.unmarked > 0 ? ` ${r.unmarked} more are in batches not marked pushed yet (a push may have reached Stripe just before a stop; the next push run marks it).` : "";
    findings.push({
      kind: "usage_mismatch",
      orgId: r.org_id,
      orgSlug: ctx.slugOf(r.org_id),
      purchaseId: null,
      paymentIntentId: null,
      cause: meter
        ? `Overage pushed to Stripe in the last ${WINDOW_DAYS} days: ${r.pushed} credits by our batches, ${theirs} on the meter for ${r.customer}.${waiting}`
        : `We pushed ${r.pushed} overage credits but Stripe has no active overage meter (run npm run stripe:sync).`,
      fixed: false,
    });
  }
  return { checked: rows.length, findings };
}
