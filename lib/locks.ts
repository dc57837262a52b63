// Transaction-scoped PostgreSQL advisory locks, for throttles that must count and record in one
// step under parallel requests on any number of app instances. Each use has its own namespace
// (the first key), so keys of different uses never collide, and a transaction that takes several
// takes them in namespace order (account before address), which cannot deadlock.
import { sql } from "drizzle-orm";
import type { DbOrTx } from "@/db/client";

export const LOCK_NAMESPACE = {
  signInAccount: 1,
  signInAddress: 2,
  couponGuesses: 3,
  // An organisation's checkouts with first-purchase-only coupons (lib/coupons/service.ts): taken
  // after the coupon's row lock, so checkouts with two different such codes serialise too.
  firstPurchaseCoupons: 4,
  // A delivery's claim (lib/deliveries/service.ts), keyed by the delivery's id: the general path
  // takes it first, the one-call function (db/migrations/0016) only tries it, under the
  // organisation's lock it already holds, and leaves a delivery it cannot take to the general path.
  deliveryClaims: 5,
} as const;

/**
 * Holds until the surrounding transaction ends; call inside db.transaction. The statement is sent
 * at once, so a caller may send its next statement before awaiting this (pipelined behind it).
 */
export async function advisoryXactLock(tx: DbOrTx, namespace: (typeof LOCK_NAMESPACE)[keyof typeof LOCK_NAMESPACE], key: string): Promise<void> {
  await tx.execute(sql`select pg_advisory_xact_lock(${namespace}::int, hashtext(${key}))`).execute();
}
