// Stripe's `expand[]` on responses: each dotted path names a field holding an id that is
// replaced by the object (deeper paths expand inside it; `data.` applies to every item of a
// list). Only fields Stripe documents as expandable, among the objects the emulator stores, can
// be expanded; anything else is refused as Stripe refuses it. Unexpanded fields stay ids, and
// stored objects are never changed (responses are expanded on a copy).
import type Stripe from "stripe";
import { invalidRequest } from "./errors";
import type { State } from "./store";

type Obj = Record<string, unknown>;

/** Expandable fields per object type (`a.b` paths for nested fields), named as the SDK names them. */
const EXPANDABLE: Record<string, string[]> = {
  payment_intent: ["customer", "latest_charge", "payment_method"] satisfies (keyof Stripe.PaymentIntent)[],
  charge: ["customer", "payment_intent"] satisfies (keyof Stripe.Charge)[],
  dispute: ["charge", "payment_intent"] satisfies (keyof Stripe.Dispute)[],
  payment_method: ["customer"] satisfies (keyof Stripe.PaymentMethod)[],
  customer: [`${"invoice_settings" satisfies keyof Stripe.Customer}.${"default_payment_method" satisfies keyof Stripe.Customer.InvoiceSettings}`],
  // Billing (emulator/billing/). `confirmation_secret` and `payments` are includable: absent
  // unless expanded, then taken from the stored invoice.
  subscription: ["customer", "default_payment_method", "latest_invoice", "schedule"] satisfies (keyof Stripe.Subscription)[],
  subscription_schedule: ["customer", "subscription"] satisfies (keyof Stripe.SubscriptionSchedule)[],
  invoice: ["customer", "default_payment_method", "confirmation_secret", "payments"] satisfies (keyof Stripe.Invoice)[],
  price: ["product"] satisfies (keyof Stripe.Price)[],
  product: ["default_price"] satisfies (keyof Stripe.Product)[],
  "checkout.session": ["customer", "invoice", "payment_intent", "subscription"] satisfies (keyof Stripe.Checkout.Session)[],
};

/** Includable fields: not in a response unless expanded (object type → fields). */
const INCLUDABLE: Record<string, string[]> = {
  invoice: ["confirmation_secret", "payments"] satisfies (keyof Stripe.Invoice)[],
};

/** The object type an expandable field holds once expanded. */
const FIELD_TYPE: Record<string, string> = {
  customer: "customer",
  latest_charge: "charge",
  charge: "charge",
  payment_method: "payment_method",
  payment_intent: "payment_intent",
  "invoice_settings.default_payment_method": "payment_method",
  default_payment_method: "payment_method",
  latest_invoice: "invoice",
  schedule: "subscription_schedule",
  subscription: "subscription",
  product: "product",
  default_price: "price",
  invoice: "invoice",
  confirmation_secret: "invoice.confirmation_secret",
  payments: "list:invoice_payment",
};

const MAX_DEPTH = 4;

function pathsOf(expand: unknown): string[] {
  const paths = Array.isArray(expand) ? expand : typeof expand === "object" && expand !== null ? Object.values(expand) : [expand];
  return paths.map((p) => {
    if (typeof p !== "string" || !p) throw invalidRequest("Invalid array", { param: "expand" });
    return p;
  });
}

/**
 * Refuses, before the request runs, expand paths that cannot apply to what the endpoint returns
 * (`returns`: an object type, or "list:<type>"), as Stripe validates them up front.
 */
export function validateExpand(returns: string, expand: unknown): void {
  if (expand === undefined) return;
  for (const full of pathsOf(expand)) {
    let parts = full.split(".");
    let type = returns;
    if (type.startsWith("list:")) {
      if (parts[0] !== "data") throw cannot(full);
      parts = parts.slice(1);
      type = type.slice(5);
    }
    if (parts.length > MAX_DEPTH) throw invalidRequest(`You cannot expand more than ${MAX_DEPTH} levels of a property. Property: ${full}`, { param: "expand" });
    while (parts.length) {
      const field = (EXPANDABLE[type] ?? []).filter((f) => parts.slice(0, f.split(".").length).join(".") === f).sort((a, b) => b.length - a.length)[0];
      if (!field) throw cannot(full);
      type = FIELD_TYPE[field]!;
      parts = parts.slice(field.split(".").length);
    }
  }
}

function lookup(state: State, id: string): Obj | null {
  const found = state.paymentIntents[id] ?? state.charges[id] ?? state.customers[id] ?? state.paymentMethods[id] ?? state.subscriptions[id] ?? state.prices[id] ?? state.products[id] ?? state.subscriptionSchedules[id];
  if (found) return structuredClone(found) as unknown as Obj;
  const invoice = state.invoices[id];
  if (!invoice) return null;
  const copy = structuredClone(invoice);
  for (const f of INCLUDABLE.invoice!) delete copy[f];
  return copy;
}

function cannot(path: string) {
  return invalidRequest(`This property cannot be expanded (${path}).`);
}

function expandOne(state: State, target: Obj, parts: string[], full: string): void {
  if (target.object === "list" && Array.isArray(target.data)) {
    if (parts[0] !== "data") throw cannot(full);
    for (const item of target.data as Obj[]) expandOne(state, item, parts.slice(1), full);
    return;
  }
  const allowed = EXPANDABLE[String(target.object)] ?? [];
  // Longest expandable field that prefixes the path (nested fields such as invoice_settings.x).
  const field = allowed.filter((f) => parts.slice(0, f.split(".").length).join(".") === f).sort((a, b) => b.length - a.length)[0];
  if (!field) throw cannot(full);
  const keys = field.split(".");
  let holder: Obj = target;
  for (const k of keys.slice(0, -1)) {
    const next = holder[k];
    if (!next || typeof next !== "object") return;
    holder = next as Obj;
  }
  const last = keys[keys.length - 1]!;
  let value = holder[last];
  if (value === undefined && INCLUDABLE[String(target.object)]?.includes(field) && typeof target.id === "string") {
    const stored = state.invoices[target.id];
    holder[last] = value = stored?.[field] === undefined ? null : structuredClone(stored[field]);
  }
  if (typeof value === "string") {
    const obj = lookup(state, value);
    if (obj) holder[last] = value = obj;
  }
  const rest = parts.slice(keys.length);
  if (rest.length && value && typeof value === "object") expandOne(state, value as Obj, rest, full);
}

/** Applies `expand` (the parsed parameter) to a response body, in place. */
export function applyExpand(state: State, body: unknown, expand: unknown): void {
  if (expand === undefined) return;
  if (!body || typeof body !== "object") return;
  for (const p of pathsOf(expand)) {
    const parts = p.split(".");
    const depth = body && (body as Obj).object === "list" ? parts.length - 1 : parts.length;
    if (depth > MAX_DEPTH) throw invalidRequest(`You cannot expand more than ${MAX_DEPTH} levels of a property. Property: ${p}`, { param: "expand" });
    expandOne(state, body as Obj, parts, p);
  }
}
