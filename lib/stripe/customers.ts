// The organisation's Stripe customer: created once, even when two first purchases race. The
// Stripe call carries an idempotency key derived from the organisation, so concurrent callers
// get the same customer back; the unique org_id row settles which insert wins.
import "server-only";
import { eq } from "drizzle-orm";
import type { DbOrTx } from "@/db/client";
import { stripeCustomers, type Organization } from "@/db/schema";
import { stripe } from "./client";

export async function ensureStripeCustomer(db: DbOrTx, org: Pick<Organization, "id" | "name" | "slug">): Promise<string> {
  const [existing] = await db.select().from(stripeCustomers).where(eq(stripeCustomers.orgId, org.id));
  if (existing) return existing.stripeCustomerId;
  const customer = await stripe().customers.create(
    { name: org.name, metadata: { org_id: org.id, org_slug: org.slug } },
    { idempotencyKey: `org-customer:${org.id}` },
  );
  await db.insert(stripeCustomers).values({ orgId: org.id, stripeCustomerId: customer.id }).onConflictDoNothing();
  const [row] = await db.select().from(stripeCustomers).where(eq(stripeCustomers.orgId, org.id));
  return row!.stripeCustomerId;
}
