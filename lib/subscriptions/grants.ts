// Credits from subscription invoices. A paid invoice grants what lib/subscriptions/rules.ts
// `invoiceGrant` says — the period's credits, trial credits, or an upgrade's adjustment — once
// (ledger key `invoice:<in_…>`), in the same transaction as the subscription mirror update and
// the campaign resume. Annual plans granted monthly get months 1…11 from jobs enqueued in that
// same transaction, each keyed `invoice:<in_…>:month:<k>` (runMonthlyGrant), which grant the
// plan the subscription has when they run and nothing once it has ended.
import { eq } from "drizzle-orm";
import type Stripe from "stripe";
import type { Db, DbOrTx, Tx } from "@/db/client";
import { subscriptions } from "@/db/schema";
import { grantCredits } from "../ledger/ledger";
import { resumeCampaignsCoveredBy } from "../campaigns/service";
import { enqueue } from "../jobs/queue";
import { log } from "../log";
import { formatCredits } from "../money/money";
import { planByKey } from "../plans/catalogue";
import { lookupKeyForPrice } from "../plans/sync";
import { invoiceSubscriptionId } from "../stripe/billing";
import { invoiceGrant, isEnded, type InvoiceFacts, type InvoiceGrant } from "./rules";
import { syncSubscription, type SyncResult } from "./sync";

export type PaidInvoiceResult = { detail: string; grant: InvoiceGrant | null; granted: number; sync: SyncResult | null };

export async function invoiceFacts(tx: DbOrTx, invoice: Stripe.Invoice): Promise<InvoiceFacts> {
  const lines = [];
  for (const l of invoice.lines?.data ?? []) {
    const priceId = l.pricing?.price_details?.price;
    const id = typeof priceId === "string" ? priceId : priceId?.id;
    lines.push({
      lookupKey: id ? await lookupKeyForPrice(tx, id) : null,
      proration: l.parent?.subscription_item_details?.proration ?? false,
      amount: l.amount,
      periodStart: l.period.start,
      periodEnd: l.period.end,
    });
  }
  return { id: invoice.id!, billingReason: invoice.billing_reason, lines };
}

/**
 * A subscription invoice is paid: sync the subscription (which also ends a delinquency and lifts
 * a billing pause), grant the invoice's credits once, resume campaigns the balance now covers.
 * A paid invoice never changes again, so an event's copy is enough; the subscription is re-fetched.
 */
export async function applyPaidInvoice(tx: Tx, invoice: Stripe.Invoice): Promise<PaidInvoiceResult> {
  const stripeSubId = invoiceSubscriptionId(invoice);
  if (!stripeSubId) return { detail: "not a subscription invoice", grant: null, granted: 0, sync: null };
  const sync = await syncSubscription(tx, stripeSubId);
  if (!sync) return { detail: "not our subscription", grant: null, granted: 0, sync: null };
  if (invoice.status !== "paid") return { detail: `invoice is ${invoice.status}`, grant: null, granted: 0, sync };
  const { row } = sync;
  const facts = await invoiceFacts(tx, invoice);
  const grant = invoiceGrant(facts);
  if (grant.kind === "none") return { detail: `invoice ${invoice.id}: nothing to grant (${grant.reason})`, grant, granted: 0, sync };

  const plan = planByKey(grant.planKey)!;
  const expiresAt = plan.creditsExpire ? grantExpiry(grant, facts) : null;
  const description =
    grant.kind === "trial"
      ? `${plan.name} trial: ${formatCredits(grant.credits)} credits`
      : grant.kind === "proration"
        ? `Upgrade to ${plan.name}: credits for the rest of the period`
        : `${plan.name} plan: ${formatCredits(grant.credits)} credits${grant.laterMonths.length ? " (month 1 of 12)" : ""}`;
  const { entry, created, bucketId } = await grantCredits(tx, {
    orgId: row.orgId,
    amount: grant.credits,
    kind: grant.kind === "trial" ? "trial_grant" : "subscription_grant",
    idempotencyKey: `invoice:${invoice.id}`,
    description,
    expiresAt,
  });
  if (bucketId && expiresAt) await scheduleExpiry(tx, bucketId, expiresAt);
  if (created && grant.kind === "period") {
    for (const [i, at] of grant.laterMonths.entries()) {
      const month = i + 1;
      // Month k's credits expire where month k+1 starts (the last month: at the period end).
      const monthEnd = grant.laterMonths[i + 1] ?? grant.periodEnd;
      await enqueue(
        tx,
        "subscriptions.monthly-grant",
        { subscriptionId: row.id, invoiceId: invoice.id!, month, expiresAt: plan.creditsExpire ? monthEnd : null },
        { singletonKey: `monthly-grant:${invoice.id}:${month}`, startAfter: new Date(at * 1000) },
      );
    }
  }
  // Only a new grant resumes: an existing one's balanceAfter is the balance back then, which
  // spending since may have used (the re-application changes no balance, so resumes nothing).
  const resumed = created ? await resumeCampaignsCoveredBy(tx, row.orgId, entry.balanceAfter) : [];
  if (created) log.info({ invoiceId: invoice.id, subscriptionId: row.id, orgId: row.orgId, credits: grant.credits, kind: grant.kind }, "subscription credits granted");
  return {
    detail: `invoice ${invoice.id}: ${grant.kind} ${created ? "granted" : "already granted"} ${grant.credits}${resumed.length ? `, ${resumed.length} campaigns resumed` : ""}`,
    grant,
    granted: created ? grant.credits : 0,
    sync,
  };
}

export type MonthlyGrantResult = { outcome: "granted" | "already" | "skipped"; detail: string };

/** Job: month `month` (1…11) of an annual invoice. Idempotent by its ledger key. */
export async function runMonthlyGrant(
  db: Db,
  data: { subscriptionId: string; invoiceId: string; month: number; expiresAt?: number | null },
): Promise<MonthlyGrantResult> {
  return db.transaction(async (tx) => {
    const [row] = await tx.select().from(subscriptions).where(eq(subscriptions.id, data.subscriptionId)).for("update");
    if (!row) return { outcome: "skipped", detail: "no such subscription" };
    if (isEnded(row.status)) return { outcome: "skipped", detail: `subscription ${row.status}: no more grants` };
    if (row.interval !== "year") return { outcome: "skipped", detail: "no longer annual" };
    const plan = planByKey(row.planKey);
    if (!plan) return { outcome: "skipped", detail: `unknown plan ${row.planKey}` };
    // The plan it has now decides whether these credits expire (the month's end came with the job).
    const expiresAt = plan.creditsExpire && data.expiresAt ? new Date(data.expiresAt * 1000) : null;
    const { entry, created, bucketId } = await grantCredits(tx, {
      orgId: row.orgId,
      amount: plan.creditsPerMonth,
      kind: "subscription_grant",
      idempotencyKey: `invoice:${data.invoiceId}:month:${data.month}`,
      description: `${plan.name} plan: ${formatCredits(plan.creditsPerMonth)} credits (month ${data.month + 1} of 12)`,
      expiresAt,
    });
    if (bucketId && expiresAt) await scheduleExpiry(tx, bucketId, expiresAt);
    if (created) await resumeCampaignsCoveredBy(tx, row.orgId, entry.balanceAfter);
    return { outcome: created ? "granted" : "already", detail: `${plan.creditsPerMonth} credits` };
  });
}

/**
 * When a plan's grant expires: a period's credits at its period end (annual granted monthly: where
 * month 1 starts), a trial's at the trial end (its $0 line's end), upgrade credits at the end of
 * the period the proration runs to.
 */
export function grantExpiry(grant: InvoiceGrant, facts: InvoiceFacts): Date | null {
  let end: number | undefined;
  if (grant.kind === "period") end = grant.laterMonths[0] ?? grant.periodEnd;
  else if (grant.kind === "trial") end = facts.lines.find((l) => !l.proration)?.periodEnd;
  else if (grant.kind === "proration") end = Math.max(...facts.lines.filter((l) => l.proration).map((l) => l.periodEnd));
  return end && Number.isFinite(end) ? new Date(end * 1000) : null;
}

/** The bucket's expiry job, in the grant's transaction (the hourly sweep catches any it missed). */
async function scheduleExpiry(tx: DbOrTx, bucketId: string, expiresAt: Date): Promise<void> {
  await enqueue(tx, "credits.expire", { grantId: bucketId }, { startAfter: expiresAt });
}
