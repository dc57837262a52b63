// Reconciliation of subscription invoices: per organisation with a Stripe customer, every invoice
// Stripe reports paid, and the credits it should have granted (lib/subscriptions/rules.ts
// invoiceGrant, the rule invoice.paid applies), against the ledger's `invoice:<in_…>` grants; and
// every such grant against Stripe. A missing grant (invoice.paid never arrived, or failed) is fixed
// through applyPaidInvoice — the webhook's own idempotent path, which also syncs the subscription,
// queues an annual plan's later months and resumes campaigns — never by hand-written SQL.
//
// Findings (added to lib/reconcile/reconcile.ts's list):
//   missing_invoice_grant         Stripe: paid; ledger: no invoice:<in_…> entry                → fixed
//   invoice_grant_mismatch        the entry's credits or organisation differ from what the invoice grants
//   invoice_grant_without_payment an invoice:<in_…> entry whose invoice Stripe does not report paid
// Monthly grants of annual plans (`invoice:<in_…>:month:<k>`) are jobs of their own and not
// compared here; their base invoice is.
import { inArray, like, sql } from "drizzle-orm";
import type { Db } from "@/db/client";
import { creditEntries, stripeCustomers, subscriptions } from "@/db/schema";
import { recordAudit } from "../audit/audit";
import { invoiceSubscriptionId, isMissing, listPaidInvoices, retrieveInvoice, type Stripe } from "../stripe/billing";
import { applyPaidInvoice, invoiceFacts } from "../subscriptions/grants";
import { invoiceGrant } from "../subscriptions/rules";
import type { Finding } from "./reconcile";

type Ctx = { fix: boolean; actorUserId: string | null; runId: string; slugOf: (orgId: string | null) => string | null };

const base = { purchaseId: null, paymentIntentId: null } as const;

export async function reconcileInvoices(db: Db, ctx: Ctx): Promise<{ checked: number; findings: Finding[]; fixed: number }> {
  // Every (organisation, customer) pair we know: the organisation's customer, and the customer of
  // each of its subscriptions (the same one in practice).
  const customers = await db.execute<{ org_id: string; customer: string }>(sql`
    select org_id, stripe_customer_id as customer from ${stripeCustomers}
    union
    select org_id, stripe_customer_id as customer from ${subscriptions}`);
  const findings: Finding[] = [];
  const paid = new Map<string, { orgId: string; invoice: Stripe.Invoice }>();
  for (const c of customers) {
    for (const invoice of await listPaidInvoices(c.customer)) {
      if (invoice.id && invoiceSubscriptionId(invoice)) paid.set(invoice.id, { orgId: c.org_id, invoice });
    }
  }

  const entries = new Map<string, { orgId: string; amount: number }>();
  const ids = [...paid.keys()];
  for (let i = 0; i < ids.length; i += 500) {
    const keys = ids.slice(i, i + 500).map((id) => `invoice:${id}`);
    const rows = await db.select({ key: creditEntries.idempotencyKey, orgId: creditEntries.orgId, amount: creditEntries.amount }).from(creditEntries).where(inArray(creditEntries.idempotencyKey, keys));
    for (const r of rows) entries.set(r.key.slice("invoice:".length), { orgId: r.orgId, amount: r.amount });
  }

  let fixed = 0;
  for (const [id, { orgId, invoice }] of paid) {
    const grant = invoiceGrant(await invoiceFacts(db, invoice));
    if (grant.kind === "none") continue;
    const at = { ...base, orgId, orgSlug: ctx.slugOf(orgId), invoiceId: id };
    const entry = entries.get(id);
    if (entry) {
      if (entry.amount !== grant.credits || entry.orgId !== orgId) {
        findings.push({ ...at, kind: "invoice_grant_mismatch", cause: `Invoice ${id} grants ${grant.credits} credits (${grant.kind}) to this organisation; the ledger has ${entry.amount}${entry.orgId !== orgId ? ` on organisation ${ctx.slugOf(entry.orgId) ?? entry.orgId}` : ""}.`, fixed: false });
      }
      continue;
    }
    const finding: Finding = { ...at, kind: "missing_invoice_grant", cause: `Stripe: invoice paid (${grant.kind}, ${grant.credits} credits); no invoice:${id} grant (invoice.paid missed or failed).`, fixed: false };
    if (ctx.fix) {
      const result = await db.transaction((tx) => applyPaidInvoice(tx, invoice));
      finding.fixed = result.granted === grant.credits;
      finding.fix = `applyPaidInvoice: ${result.detail}`;
      if (finding.fixed) {
        fixed++;
        await recordAudit(db, { actorUserId: ctx.actorUserId, action: "reconciliation.fix", target: { type: "invoice", id }, orgId, details: { invoiceId: id, credits: grant.credits, grant: grant.kind, runId: ctx.runId } });
      }
    }
    findings.push(finding);
  }

  // Grants Stripe does not back: an invoice:<in_…> entry (not a later month) for an invoice not
  // listed paid above. Re-read it before reporting (the listing is bounded per customer).
  const granted = await db
    .select({ key: creditEntries.idempotencyKey, orgId: creditEntries.orgId, amount: creditEntries.amount })
    .from(creditEntries)
    .where(like(creditEntries.idempotencyKey, "invoice:%"));
  for (const g of granted) {
    const id = g.key.slice("invoice:".length);
    if (id.includes(":") || paid.has(id)) continue;
    let status: string | null;
    try {
      status = (await retrieveInvoice(id)).status;
    } catch (e) {
      if (!isMissing(e)) throw e;
      status = null;
    }
    if (status === "paid") continue;
    findings.push({ ...base, kind: "invoice_grant_without_payment", orgId: g.orgId, orgSlug: ctx.slugOf(g.orgId), invoiceId: id, cause: `${g.amount} credits granted for invoice ${id}, which Stripe reports ${status ?? "does not exist"}.`, fixed: false });
  }
  return { checked: paid.size, findings, fixed };
}
