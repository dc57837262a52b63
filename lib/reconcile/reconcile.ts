// Reconciliation: Stripe against our purchases and ledger, per organisation, plus the ledger's
// own invariant. Every difference is listed with its cause; the safe ones — a PaymentIntent that
// succeeded at Stripe while its purchase has no grant (missed or failed webhook) — are fixed
// through the normal finalisation path (settleFromPaymentIntent, the same code the webhook runs),
// never by hand-written SQL. Everything else needs a person and is only reported.
//
// Findings:
//   missing_grant          Stripe: succeeded; us: purchase not succeeded or no purchase:<id> entry  → fixed
//   needs_review           the purchase is waiting for a person (amount/currency mismatch)
//   payment_without_purchase  a succeeded PaymentIntent naming one of our purchases that does not exist
//   grant_without_payment  purchase succeeded (or granted) but Stripe does not report the intent succeeded
//   balance_mismatch       organizations.balance <> SUM(credit_entries.amount)
// and paid subscription invoices against invoice:<in_…> grants (lib/reconcile/invoices.ts:
// missing_invoice_grant → fixed through applyPaidInvoice; invoice_grant_mismatch;
// invoice_grant_without_payment), and metered overage against Stripe's meter (lib/reconcile/usage.ts:
// usage_mismatch, reported only).
import { eq, inArray, like, sql } from "drizzle-orm";
import type Stripe from "stripe";
import type { Db } from "@/db/client";
import { creditEntries, organizations, purchases, reconciliationRuns, type Purchase } from "@/db/schema";
import { recordAudit } from "../audit/audit";
import { findBalanceMismatches } from "../ledger/queries";
import { log } from "../log";
import { listSucceededPaymentIntents } from "../stripe/events-api";
import { settleFromPaymentIntent } from "../topups/settle";
import { tryLinkPaymentIntent } from "../topups/start";
import { reconcileInvoices } from "./invoices";
import { reconcileUsage } from "./usage";

export type FindingKind =
  | "missing_grant"
  | "needs_review"
  | "payment_without_purchase"
  | "grant_without_payment"
  | "missing_invoice_grant"
  | "invoice_grant_mismatch"
  | "invoice_grant_without_payment"
  | "usage_mismatch"
  | "balance_mismatch";
export type Finding = {
  kind: FindingKind;
  orgId: string | null;
  orgSlug: string | null;
  purchaseId: string | null;
  paymentIntentId: string | null;
  invoiceId?: string | null;
  cause: string;
  fixed: boolean;
  fix?: string;
};

export type ReconcileOptions = { actorUserId?: string | null; fix?: boolean };

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Our purchase an intent names: purchase_id (embedded form) or checkout_purchase_id (hosted checkout). */
function purchaseIdOf(pi: { metadata: Record<string, string> | null }): string | undefined {
  return pi.metadata?.purchase_id ?? pi.metadata?.checkout_purchase_id;
}

export async function reconcile(db: Db, opts: ReconcileOptions = {}) {
  const fix = opts.fix ?? true;
  const [run] = await db.insert(reconciliationRuns).values({ actorUserId: opts.actorUserId ?? null }).returning();
  try {
    const intents = await listSucceededPaymentIntents(null);
    const findings: Finding[] = [];
    const slugs = new Map((await db.select({ id: organizations.id, slug: organizations.slug }).from(organizations)).map((o) => [o.id, o.slug]));
    const slugOf = (id: string | null) => (id ? (slugs.get(id) ?? null) : null);

    // Our purchases named by those intents (by id link or by our metadata), and their grants.
    const ours = intents.filter((pi) => UUID.test(purchaseIdOf(pi) ?? ""));
    const byIntent = new Map<string, Purchase>();
    const byId = new Map<string, Purchase>();
    for (let i = 0; i < ours.length; i += 500) {
      const chunk = ours.slice(i, i + 500);
      const rows = await db.select().from(purchases).where(inArray(purchases.id, chunk.map((pi) => purchaseIdOf(pi)!)));
      for (const r of rows) byId.set(r.id, r);
      const linked = await db.select().from(purchases).where(inArray(purchases.stripePaymentIntentId, chunk.map((pi) => pi.id)));
      for (const r of linked) byIntent.set(r.stripePaymentIntentId!, r);
    }
    const granted = new Set(
      (await db.select({ key: creditEntries.idempotencyKey }).from(creditEntries).where(like(creditEntries.idempotencyKey, "purchase:%"))).map((r) => r.key.slice("purchase:".length)),
    );

    let fixed = 0;
    for (const pi of ours) {
      const purchase = byIntent.get(pi.id) ?? byId.get(purchaseIdOf(pi)!);
      if (!purchase) {
        findings.push({ kind: "payment_without_purchase", orgId: pi.metadata.org_id ?? null, orgSlug: slugOf(pi.metadata.org_id ?? null), purchaseId: purchaseIdOf(pi)!, paymentIntentId: pi.id, cause: "Stripe reports a succeeded payment for a purchase we have no record of.", fixed: false });
        continue;
      }
      if (purchase.stripePaymentIntentId && purchase.stripePaymentIntentId !== pi.id) {
        findings.push({ kind: "payment_without_purchase", orgId: purchase.orgId, orgSlug: slugOf(purchase.orgId), purchaseId: purchase.id, paymentIntentId: pi.id, cause: `A second PaymentIntent succeeded for a purchase linked to ${purchase.stripePaymentIntentId} (refund it).`, fixed: false });
        continue;
      }
      if (purchase.status === "needs_review") {
        findings.push({ kind: "needs_review", orgId: purchase.orgId, orgSlug: slugOf(purchase.orgId), purchaseId: purchase.id, paymentIntentId: pi.id, cause: purchase.reviewReason ?? "needs review", fixed: false });
        continue;
      }
      if (purchase.status === "succeeded" && granted.has(purchase.id)) continue;
      const finding: Finding = {
        kind: "missing_grant",
        orgId: purchase.orgId,
        orgSlug: slugOf(purchase.orgId),
        purchaseId: purchase.id,
        paymentIntentId: pi.id,
        cause: `Stripe: succeeded; purchase ${purchase.status}${granted.has(purchase.id) ? "" : ", no credits granted"} (webhook missed or failed).`,
        fixed: false,
      };
      if (fix) {
        const result = await db.transaction(async (tx) => {
          // A hosted checkout's intent is linked when its session completes; that event was missed.
          if (!pi.metadata.purchase_id) await tryLinkPaymentIntent(tx, purchase.id, pi.id);
          return settleFromPaymentIntent(tx, pi as Stripe.PaymentIntent);
        });
        finding.fixed = result?.purchase.status === "succeeded";
        finding.fix = result ? `settled: purchase ${result.purchase.status} (${result.decision.kind})` : "no purchase matched";
        if (finding.fixed) {
          fixed++;
          await recordAudit(db, { actorUserId: opts.actorUserId ?? null, action: "reconciliation.fix", target: { type: "purchase", id: purchase.id }, orgId: purchase.orgId, details: { paymentIntentId: pi.id, runId: run!.id, before: purchase.status } });
        }
      }
      findings.push(finding);
    }

    // Granted or succeeded here, not succeeded at Stripe.
    const succeededIds = new Set(intents.map((pi) => pi.id));
    const claimed = await db.execute<{ id: string; org_id: string; pi: string | null; status: string }>(sql`
      select p.id, p.org_id, p.stripe_payment_intent_id as pi, p.status::text as status from purchases p
      where p.status = 'succeeded' or exists (select 1 from credit_entries e where e.idempotency_key = 'purchase:' || p.id::text)`);
    for (const p of claimed) {
      if (p.pi && succeededIds.has(p.pi)) continue;
      findings.push({ kind: "grant_without_payment", orgId: p.org_id, orgSlug: slugOf(p.org_id), purchaseId: p.id, paymentIntentId: p.pi, cause: `Purchase ${p.status} with credits, but Stripe does not report ${p.pi ?? "any PaymentIntent"} as succeeded.`, fixed: false });
    }

    const invoices = await reconcileInvoices(db, { fix, actorUserId: opts.actorUserId ?? null, runId: run!.id, slugOf });
    findings.push(...invoices.findings);
    fixed += invoices.fixed;

    findings.push(...(await reconcileUsage(db, { slugOf })).findings);

    for (const m of await findBalanceMismatches(db)) {
      findings.push({ kind: "balance_mismatch", orgId: m.orgId, orgSlug: slugOf(m.orgId), purchaseId: null, paymentIntentId: null, cause: `Balance ${m.balance} but the ledger sums to ${m.ledgerSum}.`, fixed: false });
    }

    const [done] = await db
      .update(reconciliationRuns)
      .set({ finishedAt: sql`now()`, checkedPaymentIntents: intents.length, checkedInvoices: invoices.checked, checkedOrganisations: slugs.size, findings, fixed })
      .where(eq(reconciliationRuns.id, run!.id))
      .returning();
    await recordAudit(db, { actorUserId: opts.actorUserId ?? null, action: "reconciliation.run", target: { type: "reconciliation_run", id: run!.id }, details: { findings: findings.length, fixed } });
    log.info({ runId: run!.id, findings: findings.length, fixed }, "reconciliation done");
    return done!;
  } catch (e) {
    await db.update(reconciliationRuns).set({ finishedAt: sql`now()`, error: e instanceof Error ? e.message.slice(0, 1000) : String(e) }).where(eq(reconciliationRuns.id, run!.id));
    throw e;
  }
}

export async function latestRuns(db: Db, limit = 10) {
  return db.select().from(reconciliationRuns).orderBy(sql`${reconciliationRuns.startedAt} desc`).limit(limit);
}
