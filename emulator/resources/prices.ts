// Prices: create (one-time or recurring by day/week/month/year), retrieve, update (active,
// lookup_key with transfer_lookup_key, metadata, nickname), list (by lookup_keys, product,
// active, type). A lookup key belongs to at most one price.
import type Stripe from "stripe";
import { invalidInteger, invalidRequest, missing, parameterMissing } from "../errors";
import { bool, int, metadata, str } from "../form";
import { newId } from "../ids";
import type { Json } from "../store";
import { BILLING_ACCEPTED } from "../billing/params";
import { listOf, type Ctx, type Route } from "./context";
import { createProduct, getProduct } from "./products";
import type { Wire } from "./wire";
import { emitJson, jsonItems } from "../billing/env";
import { getMeter } from "./meters";

const INTERVALS = ["day", "week", "month", "year"];

export function getPrice(ctx: Pick<Ctx, "store">, id: string, param = "id"): Json {
  const p = ctx.store.state.prices[id];
  if (!p) throw missing("price", id, param);
  return p;
}

function claimLookupKey(ctx: Ctx, key: string, transfer: boolean, forPrice: string): Json | null {
  const holder = Object.values(ctx.store.state.prices).find((x) => x.lookup_key === key && x.id !== forPrice);
  if (!holder) return null;
  if (!transfer) {
    throw invalidRequest(`A price (\`${holder.id}\`) already uses that lookup key.`, { param: "lookup_key" });
  }
  const before = { lookup_key: holder.lookup_key };
  holder.lookup_key = null;
  emitJson(ctx.outbox, "price.updated", holder, ctx.req, before);
  return holder;
}

function create(ctx: Ctx): Json {
  const p = ctx.params;
  let productId = str(p.product);
  if (!productId && p.product_data && typeof p.product_data === "object") {
    productId = createProduct(ctx, p.product_data as Record<string, unknown>).id as string;
  }
  if (!productId) throw parameterMissing("product");
  const product = getProduct(ctx, productId, "product");
  const currency = str(p.currency)?.toLowerCase();
  if (!currency) throw parameterMissing("currency");
  if (!/^[a-z]{3}$/.test(currency)) throw invalidRequest(`Invalid currency: ${currency}.`, { param: "currency" });
  if (p.unit_amount === undefined) throw parameterMissing("unit_amount");
  const unitAmount = int(p.unit_amount);
  if (unitAmount === undefined || Number.isNaN(unitAmount) || unitAmount < 0) throw invalidInteger("unit_amount", p.unit_amount);
  let recurring: Wire<Stripe.Price.Recurring> | null = null;
  if (p.recurring !== undefined) {
    const r = p.recurring as Record<string, unknown>;
    const interval = str(r.interval);
    if (!interval) throw parameterMissing("recurring[interval]");
    if (!INTERVALS.includes(interval)) throw invalidRequest(`Invalid recurring[interval]: must be one of day, month, week, or year`, { param: "recurring[interval]" });
    const count = r.interval_count === undefined ? 1 : int(r.interval_count);
    if (count === undefined || Number.isNaN(count) || count < 1) throw invalidInteger("recurring[interval_count]", r.interval_count);
    const trial = r.trial_period_days === undefined ? null : int(r.trial_period_days);
    if (trial !== null && (trial === undefined || Number.isNaN(trial))) throw invalidInteger("recurring[trial_period_days]", r.trial_period_days);
    const usageType = str(r.usage_type) ?? "licensed";
    if (usageType !== "licensed" && usageType !== "metered") throw invalidRequest("Invalid recurring[usage_type]: must be one of licensed or metered", { param: "recurring[usage_type]" });
    const meterId = str(r.meter) ?? null;
    // Current API versions bill metered prices from a Billing Meter, so a metered price names one.
    if (usageType === "metered" && !meterId) throw parameterMissing("recurring[meter]");
    if (meterId && usageType !== "metered") throw invalidRequest("recurring[meter] can only be set when recurring[usage_type] is metered.", { param: "recurring[meter]" });
    if (meterId) getMeter(ctx, meterId, "recurring[meter]");
    recurring = { interval, interval_count: count, meter: meterId, trial_period_days: trial ?? null, usage_type: usageType };
  }
  const id = newId("price");
  const lookupKey = str(p.lookup_key) || null;
  if (lookupKey) claimLookupKey(ctx, lookupKey, bool(p.transfer_lookup_key) ?? false, id);
  const price = {
    id,
    object: "price",
    active: bool(p.active) ?? true,
    billing_scheme: "per_unit",
    created: ctx.clock.now(),
    currency,
    custom_unit_amount: null,
    livemode: false,
    lookup_key: lookupKey,
    metadata: metadata(p.metadata),
    nickname: str(p.nickname) ?? null,
    product: product.id as string,
    recurring,
    tax_behavior: "unspecified",
    tiers_mode: null,
    transform_quantity: null,
    type: recurring ? "recurring" : "one_time",
    unit_amount: unitAmount,
    unit_amount_decimal: String(unitAmount),
  } satisfies Wire<Stripe.Price>;
  ctx.store.state.prices[id] = price;
  emitJson(ctx.outbox, "price.created", price, ctx.req);
  return price;
}

export const priceRoutes: Route[] = [
  { method: "POST", pattern: /^\/v1\/prices$/, accepts: BILLING_ACCEPTED.priceCreate, returns: "price", handle: (ctx) => ({ body: create(ctx) }) },
  { method: "GET", pattern: /^\/v1\/prices\/([^/]+)$/, accepts: BILLING_ACCEPTED.priceRetrieve, returns: "price", handle: (ctx, m) => ({ body: getPrice(ctx, m[1]!) }) },
  {
    method: "POST",
    pattern: /^\/v1\/prices\/([^/]+)$/,
    accepts: BILLING_ACCEPTED.priceUpdate,
    returns: "price",
    handle: (ctx, m) => {
      const price = getPrice(ctx, m[1]!);
      const p = ctx.params;
      const previous: Json = {};
      if (p.active !== undefined) {
        previous.active = price.active;
        price.active = bool(p.active) ?? price.active;
      }
      if (p.nickname !== undefined) {
        previous.nickname = price.nickname;
        price.nickname = str(p.nickname) || null;
      }
      if (p.lookup_key !== undefined) {
        const key = str(p.lookup_key) || null;
        if (key) claimLookupKey(ctx, key, bool(p.transfer_lookup_key) ?? false, price.id as string);
        previous.lookup_key = price.lookup_key;
        price.lookup_key = key;
      }
      if (p.metadata !== undefined) {
        previous.metadata = price.metadata;
        price.metadata = metadata(p.metadata, price.metadata as Record<string, string>);
      }
      emitJson(ctx.outbox, "price.updated", price, ctx.req, previous);
      return { body: price };
    },
  },
  {
    method: "GET",
    pattern: /^\/v1\/prices$/,
    accepts: BILLING_ACCEPTED.priceList,
    returns: "list:price",
    handle: (ctx) => {
      const p = ctx.params;
      let all = Object.values(ctx.store.state.prices).reverse();
      if (Array.isArray(p.lookup_keys)) all = all.filter((x) => (p.lookup_keys as string[]).includes(String(x.lookup_key)));
      if (typeof p.product === "string") all = all.filter((x) => x.product === p.product);
      const active = bool(p.active);
      if (active !== undefined) all = all.filter((x) => x.active === active);
      if (typeof p.type === "string") all = all.filter((x) => x.type === p.type);
      if (typeof p.currency === "string") all = all.filter((x) => x.currency === p.currency);
      const body = listOf("/v1/prices", jsonItems(all), p);
      return { body };
    },
  },
];
