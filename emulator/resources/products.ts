// Products: create, retrieve, update, list. The catalogue the app pushes its plans into.
import type Stripe from "stripe";
import { invalidRequest, missing, parameterMissing } from "../errors";
import { bool, metadata, str } from "../form";
import { newId } from "../ids";
import type { Json } from "../store";
import { BILLING_ACCEPTED } from "../billing/params";
import { listOf, type Ctx, type Route } from "./context";
import type { Wire } from "./wire";
import { emitJson, jsonItems } from "../billing/env";

export function getProduct(ctx: Pick<Ctx, "store">, id: string, param = "id"): Json {
  const p = ctx.store.state.products[id];
  if (!p) throw missing("product", id, param);
  return p;
}

export function createProduct(ctx: Ctx, p: Record<string, unknown>): Json {
  const name = str(p.name);
  if (!name) throw parameterMissing("name");
  const id = str(p.id) ?? newId("prod");
  if (ctx.store.state.products[id]) throw invalidRequest(`Product already exists.`, { code: "resource_already_exists", param: "id" });
  const now = ctx.clock.now();
  const product = {
    id,
    object: "product",
    active: bool(p.active) ?? true,
    created: now,
    default_price: null,
    description: str(p.description) ?? null,
    images: [],
    livemode: false,
    marketing_features: [],
    metadata: metadata(p.metadata),
    name,
    package_dimensions: null,
    shippable: null,
    statement_descriptor: null,
    tax_code: null,
    tax_details: null,
    type: "service",
    unit_label: null,
    updated: now,
    url: null,
  } satisfies Wire<Stripe.Product>;
  ctx.store.state.products[id] = product;
  emitJson(ctx.outbox, "product.created", product, ctx.req);
  return product;
}

export const productRoutes: Route[] = [
  { method: "POST", pattern: /^\/v1\/products$/, accepts: BILLING_ACCEPTED.productCreate, returns: "product", handle: (ctx) => ({ body: createProduct(ctx, ctx.params) }) },
  { method: "GET", pattern: /^\/v1\/products\/([^/]+)$/, accepts: BILLING_ACCEPTED.productRetrieve, returns: "product", handle: (ctx, m) => ({ body: getProduct(ctx, m[1]!) }) },
  {
    method: "POST",
    pattern: /^\/v1\/products\/([^/]+)$/,
    accepts: BILLING_ACCEPTED.productUpdate,
    returns: "product",
    handle: (ctx, m) => {
      const product = getProduct(ctx, m[1]!);
      const p = ctx.params;
      const previous: Json = {};
      for (const field of ["name", "description"] as const) {
        if (p[field] !== undefined) {
          previous[field] = product[field];
          product[field] = str(p[field]) || (field === "name" ? product.name : null);
        }
      }
      if (p.active !== undefined) {
        previous.active = product.active;
        product.active = bool(p.active) ?? product.active;
      }
      if (p.metadata !== undefined) {
        previous.metadata = product.metadata;
        product.metadata = metadata(p.metadata, product.metadata as Record<string, string>);
      }
      if (p.default_price !== undefined) {
        const price = str(p.default_price) || null;
        if (price && !ctx.store.state.prices[price]) throw missing("price", price, "default_price");
        previous.default_price = product.default_price;
        product.default_price = price;
      }
      previous.updated = product.updated;
      product.updated = ctx.clock.now();
      emitJson(ctx.outbox, "product.updated", product, ctx.req, previous);
      return { body: product };
    },
  },
  {
    method: "GET",
    pattern: /^\/v1\/products$/,
    accepts: BILLING_ACCEPTED.productList,
    returns: "list:product",
    handle: (ctx) => {
      let all = Object.values(ctx.store.state.products).reverse();
      const active = bool(ctx.params.active);
      if (active !== undefined) all = all.filter((x) => x.active === active);
      if (Array.isArray(ctx.params.ids)) all = all.filter((x) => (ctx.params.ids as string[]).includes(String(x.id)));
      return { body: listOf("/v1/products", jsonItems(all), ctx.params) };
    },
  },
];
