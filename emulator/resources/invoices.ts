// Invoices: retrieve, list (customer, subscription, status), lines, pay (now, optionally with
// another payment method), void, finalize; invoice payments list; and createPreview — what a
// proposed subscription change costs (amount due now with always_invoice, or the next renewal
// with create_prorations / none), or a new subscription's first invoice. Previews are never stored.
import { invalidRequest, missing, parameterMissing } from "../errors";
import { int, str } from "../form";
import type { Json } from "../store";
import { customerJson, envFromCtx, jsonItems, paymentIntentJson } from "../billing/env";
import { attemptPayment, buildInvoice, finalizeInvoice, paymentMethodExists, periodLine, publicInvoice, subscriptionMeta, voidInvoice, type LineInput } from "../billing/invoicing";
import { computeChange, currentPeriod, itemJson, items, recurringOf } from "../billing/lifecycle";
import { addInterval, periodEnd } from "../billing/periods";
import { ApiError } from "../errors";
import { BILLING_ACCEPTED } from "../billing/params";
import { listOf, type Ctx, type Route } from "./context";
import { scheduledItems } from "./subscription-schedules";

export function getInvoice(ctx: Pick<Ctx, "store">, id: string): Json {
  const inv = ctx.store.state.invoices[id];
  if (!inv) throw missing("invoice", id);
  return inv;
}

function subscriptionIdOf(inv: Json): string | null {
  return (((inv.parent as Json | null)?.subscription_details as Json | undefined)?.subscription as string | undefined) ?? null;
}

function preview(ctx: Ctx): Json {
  const p = ctx.params;
  const details = (p.subscription_details as Json | undefined) ?? {};
  const subId = str(p.subscription);
  const sub = subId ? ctx.store.state.subscriptions[subId] : undefined;
  if (subId && !sub) throw missing("subscription", subId, "subscription");
  const customerId = str(p.customer) ?? (sub?.customer as string | undefined);
  if (!customerId) throw parameterMissing("customer");
  const customer = customerJson(ctx.store, customerId);
  if (!customer) throw missing("customer", customerId, "customer");
  if (sub && sub.customer !== customerId) throw invalidRequest("The subscription does not belong to this customer.", { param: "subscription" });
  const env = envFromCtx(ctx, customer.test_clock as string | null);
  const behaviour = str(details.proration_behavior) ?? "create_prorations";
  const at = details.proration_date === undefined ? env.at : int(details.proration_date)!;
  if (Number.isNaN(at)) throw invalidRequest("Invalid integer: subscription_details[proration_date]", { param: "subscription_details[proration_date]" });
  const render = (inv: Json) => publicInvoice(inv);

  if (!sub) {
    // A new subscription's first invoice.
    const raw = details.items;
    if (raw === undefined) throw invalidRequest("Either subscription or subscription_details[items] is required.", { param: "subscription_details[items]" });
    const list = (Array.isArray(raw) ? raw : Object.values(raw as object)) as Json[];
    const lines: LineInput[] = list.map((r) => {
      const price = ctx.store.state.prices[String(r.price)];
      if (!price) throw missing("price", String(r.price), "subscription_details[items][0][price]");
      const { interval, count } = recurringOf(price);
      return periodLine(ctx.store, price, r.quantity === undefined ? 1 : Number(r.quantity), env.at, addInterval(env.at, interval, count), "si_preview");
    });
    return render(buildInvoice(env, { customer, subscription: null, lines, billingReason: "subscription_create", periodStart: env.at, periodEnd: env.at, preview: true }));
  }

  if (sub.status === "canceled" || sub.status === "incomplete_expired") throw invalidRequest("No upcoming invoices for customer: the subscription has ended.", { code: "invoice_upcoming_none" });
  const change = computeChange(env, sub, details.items, behaviour, at);
  const pending = subscriptionMeta(ctx.store, sub.id as string).pendingItems as unknown as LineInput[];
  // The subscription as it would be after the change (a copy; nothing is stored).
  const draft = structuredClone(sub);
  const { start, end } = currentPeriod(sub);
  (draft.items as Json).data = change.specs.map((s) => itemJson(sub.id as string, s, start, end, env.at));
  const futureLines = (from: number, to: number) => items(draft).map((it) => periodLine(ctx.store, it.price as Json, Number(it.quantity), from, to, it.id as string));

  if (change.changed && change.intervalChanged && sub.status !== "trialing") {
    const { interval, count } = recurringOf(change.specs[0]!.price);
    const newEnd = addInterval(at, interval, count);
    const lines = [...change.prorations, ...pending, ...futureLines(at, newEnd)];
    return render(buildInvoice(env, { customer, subscription: sub, lines, billingReason: "subscription_update", periodStart: at, periodEnd: at, preview: true }));
  }
  if (change.changed && behaviour === "always_invoice") {
    const lines = [...pending, ...change.prorations];
    return render(buildInvoice(env, { customer, subscription: sub, lines, billingReason: "subscription_update", periodStart: at, periodEnd: at, preview: true }));
  }
  const cancelling = details.cancel_at_period_end === "true" || (details.cancel_at_period_end === undefined && sub.cancel_at_period_end === true);
  if (cancelling) throw invalidRequest("No upcoming invoices for customer: the subscription is set to cancel at the end of its period.", { code: "invoice_upcoming_none" });
  // The next renewal: pending items (and this change's prorations), then the next period.
  const nextStart = sub.status === "trialing" ? Number(sub.trial_end) : end;
  const { interval, count } = recurringOf(change.specs[0]!.price);
  const nextEnd = periodEnd(Number(sub.billing_cycle_anchor), nextStart, interval, count);
  // A schedule phase starting at the renewal bills its items instead (when this preview changes none).
  const scheduled = change.changed ? null : scheduledItems(ctx.store, sub, nextStart);
  const renewal = scheduled ? scheduled.map((s, i) => periodLine(ctx.store, s.price, s.quantity, nextStart, periodEnd(Number(sub.billing_cycle_anchor), nextStart, recurringOf(s.price).interval, recurringOf(s.price).count), `si_scheduled_${i}`)) : futureLines(nextStart, nextEnd);
  const lines = [...pending, ...(behaviour === "create_prorations" ? change.prorations : []), ...renewal];
  return render(buildInvoice(env, { customer, subscription: sub, lines, billingReason: "subscription_cycle", periodStart: start, periodEnd: nextStart, preview: true }));
}

export const invoiceRoutes: Route[] = [
  { method: "POST", pattern: /^\/v1\/invoices\/create_preview$/, accepts: BILLING_ACCEPTED.invoicePreview, returns: "invoice", handle: (ctx) => ({ body: preview(ctx) }) },
  { method: "GET", pattern: /^\/v1\/invoices\/([^/]+)$/, accepts: BILLING_ACCEPTED.invoiceRetrieve, returns: "invoice", handle: (ctx, m) => ({ body: publicInvoice(getInvoice(ctx, m[1]!)) }) },
  {
    method: "GET",
    pattern: /^\/v1\/invoices\/([^/]+)\/lines$/,
    accepts: BILLING_ACCEPTED.invoiceLines,
    returns: "list:line_item",
    handle: (ctx, m) => {
      const inv = getInvoice(ctx, m[1]!);
      return { body: listOf(`/v1/invoices/${inv.id}/lines`, jsonItems((inv.lines as Json).data as Json[]), ctx.params) };
    },
  },
  {
    method: "GET",
    pattern: /^\/v1\/invoices$/,
    accepts: BILLING_ACCEPTED.invoiceList,
    returns: "list:invoice",
    handle: (ctx) => {
      const p = ctx.params;
      let all = Object.values(ctx.store.state.invoices).reverse();
      if (typeof p.customer === "string") all = all.filter((x) => x.customer === p.customer);
      if (typeof p.subscription === "string") all = all.filter((x) => subscriptionIdOf(x) === p.subscription);
      if (typeof p.status === "string") all = all.filter((x) => x.status === p.status);
      const body = listOf("/v1/invoices", jsonItems(all), p);
      return { body: { ...body, data: body.data.map((x) => publicInvoice(x)) } };
    },
  },
  {
    method: "POST",
    pattern: /^\/v1\/invoices\/([^/]+)\/pay$/,
    accepts: BILLING_ACCEPTED.invoicePay,
    returns: "invoice",
    handle: (ctx, m) => {
      const inv = getInvoice(ctx, m[1]!);
      if (inv.status === "paid") throw invalidRequest("Invoice is already paid.", { code: "invoice_already_paid" });
      if (inv.status !== "open" && inv.status !== "draft") throw invalidRequest(`You cannot pay an invoice with status ${inv.status}.`, { code: "invoice_not_open" });
      const pm = str(ctx.params.payment_method);
      if (pm && !paymentMethodExists(ctx.store, pm)) throw invalidRequest(`No such PaymentMethod: '${pm}'`, { code: "resource_missing", param: "payment_method" });
      const env = envFromCtx(ctx, inv.test_clock as string | null);
      if (inv.status === "draft") finalizeInvoice(env, inv);
      if (inv.status === "open") {
        const outcome = attemptPayment(env, inv, pm);
        if (outcome !== "paid") {
          const piId = ((inv.payments as Json).data as Json[])[0]?.payment as Json | undefined;
          const pi = piId ? paymentIntentJson(ctx.store, piId.payment_intent as string) : undefined;
          const err = (pi?.last_payment_error as Json | null) ?? null;
          throw new ApiError(402, {
            type: "card_error",
            code: (err?.code as string) ?? "card_declined",
            decline_code: (err?.decline_code as string) ?? undefined,
            message: (err?.message as string) ?? (outcome === "action_required" ? "This payment requires additional user action." : "Your card was declined."),
          });
        }
      }
      return { body: publicInvoice(inv) };
    },
  },
  {
    method: "POST",
    pattern: /^\/v1\/invoices\/([^/]+)\/void$/,
    accepts: BILLING_ACCEPTED.invoiceVoid,
    returns: "invoice",
    handle: (ctx, m) => {
      const inv = getInvoice(ctx, m[1]!);
      if (inv.status !== "open") throw invalidRequest(`You can only void an open invoice; this one is ${inv.status}.`, { code: "invoice_not_open" });
      voidInvoice(envFromCtx(ctx, inv.test_clock as string | null), inv);
      return { body: publicInvoice(inv) };
    },
  },
  {
    method: "POST",
    pattern: /^\/v1\/invoices\/([^/]+)\/finalize$/,
    accepts: BILLING_ACCEPTED.invoiceFinalize,
    returns: "invoice",
    handle: (ctx, m) => {
      const inv = getInvoice(ctx, m[1]!);
      if (inv.status !== "draft") throw invalidRequest(`This invoice is already finalized.`, { code: "invoice_not_editable" });
      finalizeInvoice(envFromCtx(ctx, inv.test_clock as string | null), inv);
      return { body: publicInvoice(inv) };
    },
  },
  {
    method: "GET",
    pattern: /^\/v1\/invoice_payments$/,
    accepts: BILLING_ACCEPTED.invoicePaymentList,
    returns: "list:invoice_payment",
    handle: (ctx) => {
      const p = ctx.params;
      let all = Object.values(ctx.store.state.invoices).reverse().flatMap((inv) => ((inv.payments as Json | undefined)?.data as Json[] | undefined) ?? []);
      if (typeof p.invoice === "string") all = all.filter((x) => x.invoice === p.invoice);
      const pay = p.payment as Json | undefined;
      if (pay && typeof pay.payment_intent === "string") all = all.filter((x) => (x.payment as Json).payment_intent === pay.payment_intent);
      return { body: listOf("/v1/invoice_payments", jsonItems(all), p) };
    },
  },
];
