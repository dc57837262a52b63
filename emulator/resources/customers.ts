// Customers: create (optionally on a test clock), retrieve, update (incl. the default payment
// method for invoices, which must be attached to the customer), list.
import type Stripe from "stripe";
import { missing } from "../errors";
import { metadata, str } from "../form";
import { newId } from "../ids";
import { ACCEPTED } from "../params";
import { requireAttached } from "./payment-method-attach";
import { listOf, type Ctx, type Route } from "./context";

function get(ctx: Ctx, id: string): Stripe.Customer {
  const c = ctx.store.state.customers[id];
  if (!c) throw missing("customer", id);
  return c;
}

export function customerExists(ctx: Ctx, id: string): boolean {
  return Boolean(ctx.store.state.customers[id]);
}

const TEXT_FIELDS = ["email", "name", "description", "phone"] as const;

export const customerRoutes: Route[] = [
  {
    method: "POST",
    pattern: /^\/v1\/customers$/,
    accepts: ACCEPTED.customerCreate,
    returns: "customer",
    handle: (ctx) => {
      const p = ctx.params;
      const testClock = str(p.test_clock) ?? null;
      if (testClock && !ctx.store.state.testClocks[testClock]) throw missing("test_helpers.test_clock", testClock, "test_clock");
      const customer = {
        id: newId("cus"),
        object: "customer",
        address: null,
        balance: 0,
        created: testClock ? Number(ctx.store.state.testClocks[testClock]!.frozen_time) : ctx.clock.now(),
        currency: null,
        default_source: null,
        delinquent: false,
        description: str(p.description) ?? null,
        discount: null,
        email: str(p.email) ?? null,
        invoice_prefix: newId("").slice(1, 9).toUpperCase(),
        invoice_settings: { custom_fields: null, default_payment_method: null, footer: null, rendering_options: null },
        livemode: false,
        metadata: metadata(p.metadata),
        name: str(p.name) ?? null,
        next_invoice_sequence: 1,
        phone: str(p.phone) ?? null,
        preferred_locales: [],
        shipping: null,
        tax_exempt: "none",
        test_clock: testClock,
      } satisfies Stripe.Customer;
      ctx.store.state.customers[customer.id] = customer;
      ctx.store.wrote();
      ctx.outbox.emit("customer.created", customer, ctx.req);
      return { body: customer };
    },
  },
  {
    method: "GET",
    pattern: /^\/v1\/customers\/([^/]+)$/,
    accepts: ACCEPTED.customerRetrieve,
    returns: "customer",
    handle: (ctx, m) => ({ body: get(ctx, m[1]!) }),
  },
  {
    method: "POST",
    pattern: /^\/v1\/customers\/([^/]+)$/,
    accepts: ACCEPTED.customerUpdate,
    returns: "customer",
    handle: (ctx, m) => {
      const c = get(ctx, m[1]!);
      const p = ctx.params;
      const previous: Partial<Stripe.Customer> = {};
      for (const field of TEXT_FIELDS) {
        if (p[field] !== undefined) {
          previous[field] = c[field];
          c[field] = p[field] === "" ? null : (str(p[field]) ?? null);
        }
      }
      if (p.metadata !== undefined) {
        previous.metadata = c.metadata;
        c.metadata = metadata(p.metadata, c.metadata);
      }
      const defaultPm = (p.invoice_settings as Record<string, unknown> | undefined)?.default_payment_method;
      if (defaultPm !== undefined) {
        const pm = str(defaultPm) || null;
        if (pm) requireAttached(ctx, pm, c.id, "invoice_settings[default_payment_method]");
        previous.invoice_settings = structuredClone(c.invoice_settings);
        c.invoice_settings = { ...c.invoice_settings, default_payment_method: pm };
      }
      ctx.store.wrote();
      ctx.outbox.emit("customer.updated", c, ctx.req, previous);
      return { body: c };
    },
  },
  {
    method: "GET",
    pattern: /^\/v1\/customers$/,
    accepts: ACCEPTED.customerList,
    returns: "list:customer",
    handle: (ctx) => {
      let all = Object.values(ctx.store.state.customers).reverse();
      if (typeof ctx.params.email === "string") all = all.filter((c) => c.email === ctx.params.email);
      if (typeof ctx.params.test_clock === "string") all = all.filter((c) => c.test_clock === ctx.params.test_clock);
      return { body: listOf("/v1/customers", all, ctx.params) };
    },
  },
];
