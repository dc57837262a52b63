// Pushes the catalogue (lib/plans/catalogue.ts) to Stripe and mirrors the ids locally.
// Idempotent: products have stable ids (`creditloop_plan_<key>`), prices are found by lookup key;
// only what is missing or different is created or updated, so a second run changes nothing. A
// price whose amount, currency or interval differs from the catalogue is an error: Stripe prices
// are immutable, so the catalogue must name a new lookup key (…_v2) instead.
// Overage: one Billing Meter (event name OVERAGE_METER_EVENT, sum of `value` per customer, found by
// its event name among active meters) and, per plan with `overage`, a metered monthly price on the
// plan's product (recurring usage_type metered, `meter` set, unit amount per credit, its own
// lookup key), mirrored in plans.stripe_overage_price_id.
import { eq } from "drizzle-orm";
import type Stripe from "stripe";
import type { DbOrTx } from "@/db/client";
import { planPrices, plans } from "@/db/schema";
import { OVERAGE_METER_EVENT, PLANS, type Plan, type PlanOverage, type PlanPrice } from "./catalogue";

export type SyncReport = { created: string[]; updated: string[]; unchanged: string[] };

export const productIdFor = (plan: Plan) => `creditloop_plan_${plan.key}`;

export async function syncCatalogue(db: DbOrTx, client: Stripe): Promise<SyncReport> {
  const report: SyncReport = { created: [], updated: [], unchanged: [] };
  const meter = PLANS.some((p) => p.overage) ? await ensureMeter(client, report) : null;
  for (const plan of PLANS) {
    const product = await ensureProduct(client, plan, report);
    const overagePrice = plan.overage && meter ? await ensureOveragePrice(client, plan, plan.overage, product.id, meter.id, report) : null;
    await upsertPlan(db, plan, product.id, overagePrice?.id ?? null);
    for (const price of [plan.monthly, plan.annual]) {
      const stripePrice = await ensurePrice(client, plan, price, product.id, report);
      await upsertPrice(db, plan, price, stripePrice.id);
    }
  }
  return report;
}

/** The overage meter: the active meter with our event name, else a new one (sum per customer). */
async function ensureMeter(client: Stripe, report: SyncReport): Promise<Stripe.Billing.Meter> {
  for await (const meter of client.billing.meters.list({ status: "active", limit: 100 })) {
    if (meter.event_name !== OVERAGE_METER_EVENT) continue;
    if (meter.default_aggregation.formula !== "sum" || meter.customer_mapping.event_payload_key !== "stripe_customer_id" || meter.value_settings.event_payload_key !== "value") {
      throw new Error(`Stripe meter ${meter.id} (${OVERAGE_METER_EVENT}) does not sum "value" per stripe_customer_id; meters are immutable — deactivate it and run the sync again.`);
    }
    report.unchanged.push(`meter ${OVERAGE_METER_EVENT}`);
    return meter;
  }
  report.created.push(`meter ${OVERAGE_METER_EVENT}`);
  return client.billing.meters.create(
    {
      display_name: "Creditloop overage credits",
      event_name: OVERAGE_METER_EVENT,
      default_aggregation: { formula: "sum" },
      customer_mapping: { type: "by_id", event_payload_key: "stripe_customer_id" },
      value_settings: { event_payload_key: "value" },
    },
    { idempotencyKey: `catalogue:meter:${OVERAGE_METER_EVENT}` },
  );
}

/** The plan's metered overage price (monthly, billed in arrears from the meter). */
async function ensureOveragePrice(client: Stripe, plan: Plan, overage: PlanOverage, productId: string, meterId: string, report: SyncReport): Promise<Stripe.Price> {
  return ensurePriceByLookupKey(client, report, {
    lookupKey: overage.lookupKey,
    matches: (existing) =>
      existing.unit_amount === overage.unitAmount &&
      existing.currency === plan.currency &&
      existing.recurring?.usage_type === "metered" &&
      existing.recurring?.meter === meterId &&
      existing.recurring?.interval === "month" &&
      productOf(existing) === productId,
    mismatch: "differs from the catalogue's overage; prices are immutable — give it a new lookup key (e.g. …_v2).",
    create: {
      product: productId,
      currency: plan.currency,
      unit_amount: overage.unitAmount,
      recurring: { interval: "month", interval_count: 1, usage_type: "metered", meter: meterId },
      lookup_key: overage.lookupKey,
      nickname: `${plan.name} overage (per credit)`,
      metadata: { plan_key: plan.key, overage: "true" },
    },
  });
}

async function ensureProduct(client: Stripe, plan: Plan, report: SyncReport): Promise<Stripe.Product> {
  const id = productIdFor(plan);
  let product: Stripe.Product | undefined;
  try {
    product = await client.products.retrieve(id);
  } catch (e) {
    if ((e as { code?: string }).code !== "resource_missing") throw e;
  }
  if (!product) {
    report.created.push(`product ${id}`);
    return client.products.create(
      { id, name: plan.name, description: plan.description, metadata: { plan_key: plan.key, credits_per_month: String(plan.creditsPerMonth) } },
      { idempotencyKey: `catalogue:product:${id}` },
    );
  }
  const wanted = { name: plan.name, description: plan.description, credits: String(plan.creditsPerMonth) };
  if (product.name !== wanted.name || product.description !== wanted.description || product.metadata.credits_per_month !== wanted.credits || !product.active) {
    report.updated.push(`product ${id}`);
    return client.products.update(id, {
      name: wanted.name,
      description: wanted.description,
      active: true,
      metadata: { plan_key: plan.key, credits_per_month: wanted.credits },
    });
  }
  report.unchanged.push(`product ${id}`);
  return product;
}

async function ensurePrice(client: Stripe, plan: Plan, price: PlanPrice, productId: string, report: SyncReport): Promise<Stripe.Price> {
  return ensurePriceByLookupKey(client, report, {
    lookupKey: price.lookupKey,
    matches: (existing) =>
      existing.unit_amount === price.amount &&
      existing.currency === plan.currency &&
      existing.recurring?.interval === price.interval &&
      existing.recurring?.interval_count === 1 &&
      productOf(existing) === productId,
    mismatch: "differs from the catalogue; prices are immutable — give the changed price a new lookup key (e.g. …_v2).",
    create: {
      product: productId,
      currency: plan.currency,
      unit_amount: price.amount,
      recurring: { interval: price.interval, interval_count: 1 },
      lookup_key: price.lookupKey,
      metadata: { plan_key: plan.key },
    },
  });
}

const productOf = (price: Stripe.Price) => (typeof price.product === "string" ? price.product : price.product.id);

/**
 * The price with this lookup key: the existing one when it still matches the catalogue
 * (reactivated if archived), else a refusal — prices are immutable, a change needs a new key —
 * or, when there is none, a new one (idempotency key per lookup key).
 */
async function ensurePriceByLookupKey(
  client: Stripe,
  report: SyncReport,
  p: { lookupKey: string; matches: (existing: Stripe.Price) => boolean; mismatch: string; create: Stripe.PriceCreateParams },
): Promise<Stripe.Price> {
  const [existing] = (await client.prices.list({ lookup_keys: [p.lookupKey], limit: 1 })).data;
  if (existing) {
    if (!p.matches(existing)) throw new Error(`Stripe price ${existing.id} (lookup key ${p.lookupKey}) ${p.mismatch}`);
    if (!existing.active) {
      report.updated.push(`price ${p.lookupKey}`);
      return client.prices.update(existing.id, { active: true });
    }
    report.unchanged.push(`price ${p.lookupKey}`);
    return existing;
  }
  report.created.push(`price ${p.lookupKey}`);
  return client.prices.create(p.create, { idempotencyKey: `catalogue:price:${p.lookupKey}` });
}

async function upsertPlan(db: DbOrTx, plan: Plan, productId: string, overagePriceId: string | null) {
  const [row] = await db.select().from(plans).where(eq(plans.key, plan.key));
  const values = {
    name: plan.name,
    stripeProductId: productId,
    creditsPerMonth: plan.creditsPerMonth,
    overageUnitAmount: plan.overage?.unitAmount ?? null,
    stripeOveragePriceId: overagePriceId,
  };
  if (
    row &&
    row.name === values.name &&
    row.stripeProductId === productId &&
    row.creditsPerMonth === values.creditsPerMonth &&
    row.overageUnitAmount === values.overageUnitAmount &&
    row.stripeOveragePriceId === overagePriceId
  )
    return;
  await db
    .insert(plans)
    .values({ key: plan.key, ...values })
    .onConflictDoUpdate({ target: plans.key, set: { ...values, syncedAt: new Date() } });
}

/** The plan's metered overage price at Stripe, from the local mirror (null: no overage). */
export async function overagePriceIdFor(db: DbOrTx, planKey: string): Promise<string | null> {
  const [row] = await db.select({ id: plans.stripeOveragePriceId }).from(plans).where(eq(plans.key, planKey));
  return row?.id ?? null;
}

async function upsertPrice(db: DbOrTx, plan: Plan, price: PlanPrice, stripePriceId: string) {
  const [row] = await db.select().from(planPrices).where(eq(planPrices.lookupKey, price.lookupKey));
  if (row && row.stripePriceId === stripePriceId && row.amount === price.amount && row.planKey === plan.key) return;
  const values = { lookupKey: price.lookupKey, planKey: plan.key, interval: price.interval, amount: price.amount, currency: plan.currency, stripePriceId };
  await db.insert(planPrices).values(values).onConflictDoUpdate({ target: planPrices.lookupKey, set: { ...values, syncedAt: new Date() } });
}

/** The Stripe price id for a lookup key, from the local mirror (filled by the sync). */
export async function stripePriceIdFor(db: DbOrTx, lookupKey: string): Promise<string | null> {
  const [row] = await db.select({ id: planPrices.stripePriceId }).from(planPrices).where(eq(planPrices.lookupKey, lookupKey));
  return row?.id ?? null;
}

/** The lookup key for a Stripe price id (reverse of the above). */
export async function lookupKeyForPrice(db: DbOrTx, stripePriceId: string): Promise<string | null> {
  const [row] = await db.select({ k: planPrices.lookupKey }).from(planPrices).where(eq(planPrices.stripePriceId, stripePriceId));
  return row?.k ?? null;
}
