// The customer portal: billing_portal.sessions.create returns a url on the emulator, whose small
// HTML page lists the customer's subscriptions (plan, status, renewal date) and invoices (links
// to hosted invoice pages), and offers: cancel at period end, undo that (renew), update the card
// to a test card (which also retries unpaid invoices of past-due subscriptions, as Stripe does when
// a new payment method is added). Its actions go through the same code as the API, so they emit
// the same events Stripe would (customer.subscription.updated, payment_method.attached,
// customer.updated, invoice.paid …). Also the hosted invoice page (/i/<invoice id>) and the
// billing settings under /_emulator/billing (retry schedule, what happens after the last retry).
import type Stripe from "stripe";
import { ApiError, invalidRequest, missing, parameterMissing } from "../errors";
import { parseParams, str } from "../form";
import { newId, randomToken } from "../ids";
import type { Json } from "../store";
import { customerJson, emitJson, emitUpdated, nowIn, publicUrl, stamped, type BillingDeps, type BillingEnv } from "../billing/env";
import { BILLING_ACCEPTED } from "../billing/params";
import { attemptPayment } from "../billing/invoicing";
import type { Route } from "./context";
import { attachPaymentMethod } from "./payment-method-attach";
import { TEST_CARDS } from "./payment-methods";
import { subscriptionRoutes } from "./subscriptions";
import type { Wire } from "./wire";

const PORTAL_CARDS = ["pm_card_visa", "pm_card_mastercard", "pm_card_chargeCustomerFail"];

export const billingPortalRoutes: Route[] = [
  {
    method: "POST",
    pattern: /^\/v1\/billing_portal\/sessions$/,
    accepts: BILLING_ACCEPTED.portalSessionCreate,
    returns: "billing_portal.session",
    handle: (ctx) => {
      const p = ctx.params;
      const customer = str(p.customer);
      if (!customer) throw parameterMissing("customer");
      if (!customerJson(ctx.store, customer)) throw missing("customer", customer, "customer");
      const returnUrl = str(p.return_url) ?? null;
      if (returnUrl && !/^https?:\/\//.test(returnUrl)) throw invalidRequest("Invalid URL: return_url", { param: "return_url" });
      const secret = `test_${randomToken(32)}`;
      const session = {
        id: newId("bps"),
        object: "billing_portal.session",
        configuration: "bpc_emulator_default",
        created: ctx.clock.now(),
        customer,
        customer_account: null,
        flow: null,
        livemode: false,
        locale: null,
        on_behalf_of: null,
        return_url: returnUrl,
        url: `${publicUrl(ctx)}/p/session/${secret}`,
      } satisfies Wire<Stripe.BillingPortal.Session>;
      ctx.store.state.portalSessions[secret] = session;
      emitJson(ctx.outbox, "billing_portal.session.created", session, ctx.req);
      return { body: session };
    },
  },
];

type Deps = BillingDeps;
export type PageResult = { status: number; headers: Record<string, string>; body: string };

const esc = (v: unknown) => String(v ?? "").replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const money = (amount: unknown, currency: unknown) => `${(Number(amount) / 100).toFixed(2)} ${String(currency).toUpperCase()}`;
const date = (t: unknown) => (t ? new Date(Number(t) * 1000).toISOString().slice(0, 10) : "—");

function page(title: string, body: string): PageResult {
  const html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:760px;margin:2rem auto;padding:0 1rem;color:#1a1a1a}table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #ddd;padding:.4rem;text-align:left}form{display:inline}button{margin:.2rem 0}.muted{color:#666}</style>
</head><body>${body}</body></html>`;
  return { status: 200, headers: { "content-type": "text/html; charset=utf-8" }, body: html };
}

const redirect = (to: string): PageResult => ({ status: 303, headers: { location: to }, body: "" });

/** Calls the emulator's own subscription update, so portal actions behave exactly like the API. */
function updateSubscription(deps: Deps, id: string, params: Record<string, unknown>): void {
  const route = subscriptionRoutes.find((r) => r.method === "POST" && r.pattern.source === /^\/v1\/subscriptions\/([^/]+)$/.source)!;
  const path = `/v1/subscriptions/${id}`;
  route.handle({ ...deps, req: null, params }, path.match(route.pattern)!);
}

function portalPage(deps: Deps, secret: string, session: Json, notice: string | null): PageResult {
  const s = deps.store.state;
  const customer = customerJson(deps.store, session.customer as string)!;
  const subs = Object.values(s.subscriptions).filter((x) => x.customer === customer.id && x.status !== "incomplete_expired");
  const invoices = Object.values(s.invoices).filter((x) => x.customer === customer.id && x.status !== "draft").reverse();
  const pmId =
    ((customer.invoice_settings as Json).default_payment_method as string | null) ??
    (subs.find((x) => x.default_payment_method && x.status !== "canceled")?.default_payment_method as string | undefined) ??
    null;
  const pm = pmId ? s.paymentMethods[pmId] : undefined;
  const base = `/p/session/${secret}`;
  const subRows = subs
    .map((sub) => {
      const item = ((sub.items as Json).data as Json[])[0]!;
      const price = item.price as Json;
      const product = s.products[price.product as string];
      const live = ["active", "trialing", "past_due", "unpaid"].includes(sub.status as string);
      const action = !live
        ? ""
        : sub.cancel_at_period_end
          ? `<form method="post" action="${base}/renew"><input type="hidden" name="subscription" value="${esc(sub.id)}"><button>Renew plan</button></form>`
          : `<form method="post" action="${base}/cancel"><input type="hidden" name="subscription" value="${esc(sub.id)}"><button>Cancel plan</button></form>`;
      const state = sub.cancel_at_period_end ? `cancels on ${date(sub.cancel_at)}` : live ? `renews on ${date(item.current_period_end)}` : `ended ${date(sub.ended_at)}`;
      return `<tr data-subscription="${esc(sub.id)}"><td>${esc(product?.name ?? price.product)}</td><td>${money(price.unit_amount, price.currency)} / ${esc((price.recurring as Json).interval)}</td><td data-status>${esc(sub.status)}</td><td>${esc(state)}</td><td>${action}</td></tr>`;
    })
    .join("");
  const invRows = invoices
    .map((inv) => `<tr data-invoice="${esc(inv.id)}"><td>${date(inv.created)}</td><td>${esc(inv.number)}</td><td>${money(inv.total, inv.currency)}</td><td>${esc(inv.status)}</td><td><a href="${esc(inv.hosted_invoice_url)}">View</a></td></tr>`)
    .join("");
  const cards = PORTAL_CARDS.map((c) => `<option value="${c}">${esc(TEST_CARDS[c]!.brand)} •••• ${esc(TEST_CARDS[c]!.last4)} (${c})</option>`).join("");
  const current = pm?.card ? `${pm.card.brand} •••• ${pm.card.last4}` : "none";
  return page(
    "Billing portal (Stripe emulator)",
    `<h1>Billing</h1><p class="muted">${esc(customer.name ?? customer.email ?? customer.id)} · Stripe emulator customer portal</p>
${notice ? `<p role="status">${esc(notice)}</p>` : ""}
<h2>Current plan</h2>${subRows ? `<table><tr><th>Plan</th><th>Price</th><th>Status</th><th></th><th></th></tr>${subRows}</table>` : "<p>No subscriptions.</p>"}
<h2>Payment method</h2><p>Default: <span data-payment-method>${esc(current)}</span></p>
<form method="post" action="${base}/card"><label>Test card <select name="payment_method">${cards}</select></label> <button>Update card</button></form>
<h2>Invoice history</h2>${invRows ? `<table><tr><th>Date</th><th>Number</th><th>Total</th><th>Status</th><th></th></tr>${invRows}</table>` : "<p>No invoices.</p>"}
${session.return_url ? `<p><a href="${esc(session.return_url)}">Return to ${esc(new URL(String(session.return_url)).host)}</a></p>` : ""}`,
  );
}

function updateCard(deps: Deps, customer: Json, testCard: string): string {
  const env: BillingEnv = { ...deps, req: null, at: nowIn(deps.store, deps.clock, customer.test_clock as string | null) };
  const pm = stamped(env, () => attachPaymentMethod({ ...deps, req: null, params: {} }, testCard, customer.id as string).id);
  const before = structuredClone(customer);
  customer.invoice_settings = { ...(customer.invoice_settings as Json), default_payment_method: pm };
  emitUpdated(env, "customer.updated", customer, before);
  const s = deps.store.state;
  for (const sub of Object.values(s.subscriptions)) {
    if (sub.customer !== customer.id || sub.status === "canceled" || sub.status === "incomplete_expired") continue;
    if (sub.default_payment_method && sub.default_payment_method !== pm) updateSubscription(deps, sub.id as string, { default_payment_method: pm });
  }
  // A new payment method retries the open invoices of past-due subscriptions.
  let paid = 0;
  for (const inv of Object.values(s.invoices)) {
    const subId = ((inv.parent as Json | null)?.subscription_details as Json | undefined)?.subscription as string | undefined;
    const sub = subId ? s.subscriptions[subId] : undefined;
    if (inv.customer !== customer.id || inv.status !== "open" || !sub || !["past_due", "unpaid"].includes(sub.status as string)) continue;
    if (attemptPayment({ ...env, at: nowIn(deps.store, deps.clock, customer.test_clock as string | null) }, inv) === "paid") paid++;
  }
  return paid ? `Card updated; ${paid} outstanding invoice(s) paid.` : "Card updated.";
}

function invoicePage(deps: Deps, inv: Json): PageResult {
  const lines = ((inv.lines as Json).data as Json[]).map((l) => `<tr><td>${esc(l.description)}</td><td>${date((l.period as Json).start)} – ${date((l.period as Json).end)}</td><td>${money(l.amount, l.currency)}</td></tr>`).join("");
  const customer = customerJson(deps.store, inv.customer as string);
  return page(
    `Invoice ${inv.number ?? inv.id}`,
    `<h1>Invoice ${esc(inv.number ?? inv.id)}</h1><p>${esc(customer?.name ?? customer?.email ?? inv.customer)} · <span data-status>${esc(inv.status)}</span></p>
<table><tr><th>Description</th><th>Period</th><th>Amount</th></tr>${lines}</table>
<p>Total ${money(inv.total, inv.currency)} · Amount due ${money(inv.amount_due, inv.currency)} · Paid ${money(inv.amount_paid, inv.currency)}</p>`,
  );
}

/** Pages and settings outside Stripe's JSON API; null when the path is not one of them. */
export function handleBillingPages(deps: Deps, method: string, pathname: string, query: string, rawBody: string): PageResult | null {
  const s = deps.store.state;
  let m: RegExpMatchArray | null;
  if ((m = pathname.match(/^\/p\/session\/([^/]+)(?:\/(cancel|renew|card))?$/))) {
    const session = s.portalSessions[m[1]!];
    if (!session) return { status: 404, headers: { "content-type": "text/plain" }, body: "This portal session does not exist or has expired." };
    const customer = customerJson(deps.store, session.customer as string)!;
    const action = m[2];
    if (method === "GET" && !action) {
      const notice = new URLSearchParams(query).get("notice");
      return portalPage(deps, m[1]!, session, notice);
    }
    if (method !== "POST" || !action) return { status: 405, headers: { "content-type": "text/plain" }, body: "Method not allowed" };
    const form = parseParams(rawBody);
    let notice = "";
    try {
      if (action === "card") {
        const pm = str(form.payment_method) ?? "";
        if (!PORTAL_CARDS.includes(pm)) return { status: 400, headers: { "content-type": "text/plain" }, body: "Choose one of the test cards." };
        notice = updateCard(deps, customer, pm);
      } else {
        const subId = str(form.subscription) ?? "";
        const sub = s.subscriptions[subId];
        if (!sub || sub.customer !== customer.id) return { status: 404, headers: { "content-type": "text/plain" }, body: "No such subscription." };
        updateSubscription(deps, subId, action === "cancel" ? { cancel_at_period_end: "true", cancellation_details: { comment: "Canceled in the customer portal" } } : { cancel_at_period_end: "false" });
        notice = action === "cancel" ? "Your plan will be canceled at the end of the period." : "Your plan will renew.";
      }
    } catch (e) {
      if (!(e instanceof ApiError)) throw e;
      notice = e.body.message;
    }
    deps.store.changed();
    return redirect(`/p/session/${m[1]}?notice=${encodeURIComponent(notice)}`);
  }
  if (method === "GET" && (m = pathname.match(/^\/i\/([^/]+)(\/pdf)?$/))) {
    const inv = s.invoices[m[1]!];
    if (!inv || inv.status === "draft") return { status: 404, headers: { "content-type": "text/plain" }, body: "No such invoice." };
    return invoicePage(deps, inv);
  }
  if (pathname === "/_emulator/billing") {
    if (method === "POST") {
      let body: Json = {};
      try {
        body = rawBody ? JSON.parse(rawBody) : {};
      } catch {
        return { status: 400, headers: { "content-type": "application/json" }, body: JSON.stringify({ error: { message: "JSON body expected" } }) };
      }
      const settings = s.billing.settings;
      if (Array.isArray(body.retryDays) && body.retryDays.every((d) => typeof d === "number" && d > 0)) settings.retryDays = body.retryDays as number[];
      if (body.afterRetries === "cancel" || body.afterRetries === "unpaid" || body.afterRetries === "past_due") settings.afterRetries = body.afterRetries;
      if (typeof body.upcomingDays === "number" && body.upcomingDays >= 0) settings.upcomingDays = body.upcomingDays;
      if (typeof body.finalizeDelaySeconds === "number" && body.finalizeDelaySeconds >= 0) settings.finalizeDelaySeconds = body.finalizeDelaySeconds;
      deps.store.changed();
    }
    return { status: 200, headers: { "content-type": "application/json" }, body: JSON.stringify(s.billing.settings) };
  }
  return null;
}
