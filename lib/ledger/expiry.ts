// Expiry of expiring grants (db/schema/credit-grants.ts). The `credits.expire` job — enqueued
// when the grant is made (startAfter = expiry) and run hourly as a sweep without a grant id —
// writes one `expiry` entry per due bucket for what is left of it, keyed `expiry:<bucket id>`,
// and empties the bucket, in one transaction. Idempotent: a second run finds the bucket expired
// (and the key would refuse a second entry anyway).
//
// Locking: the organisation row first (FOR NO KEY UPDATE, the lock a debit's statement takes),
// then the bucket; debits take the same two locks in the same order (lib/ledger/ledger.ts), so a
// debit racing the expiry either drains the bucket before it (and less expires) or runs after it
// (and the credits are gone), never both. The entry never takes the balance below zero: what
// expires is min(remaining, balance). An expiry entry that takes the balance below a threshold is a
// crossing (low-balance notification, auto-recharge), as a delivery's would be.
import { and, asc, eq, isNull, lte, sql } from "drizzle-orm";
import type { Db } from "@/db/client";
import { creditGrants, organizations } from "@/db/schema";
import { grantCredits, lockBalance } from "./ledger";
import { afterBalanceDrop } from "../balance-care/after-debit";
import { formatCredits } from "../money/money";
import { log } from "../log";

export type ExpireOutcome = { grantId: string; outcome: "expired" | "already" | "not_due" | "missing"; credits: number };

/** Expires one bucket if it is due. */
export async function expireGrant(db: Db, grantId: string, now: Date = new Date()): Promise<ExpireOutcome> {
  return db.transaction(async (tx) => {
    const [peek] = await tx.select({ orgId: creditGrants.orgId }).from(creditGrants).where(eq(creditGrants.id, grantId));
    if (!peek) return { grantId, outcome: "missing", credits: 0 };
    const org = await lockBalance(tx, peek.orgId);
    const [bucket] = await tx.select().from(creditGrants).where(eq(creditGrants.id, grantId)).for("update");
    if (!org || !bucket) return { grantId, outcome: "missing", credits: 0 };
    if (bucket.expiredAt) return { grantId, outcome: "already", credits: 0 };
    if (bucket.expiresAt.getTime() > now.getTime()) return { grantId, outcome: "not_due", credits: 0 };
    const credits = Math.min(bucket.remaining, Math.max(org.balance, 0));
    if (credits > 0) {
      const { entry, created } = await grantCredits(tx, {
        orgId: bucket.orgId,
        amount: -credits,
        kind: "expiry",
        idempotencyKey: `expiry:${bucket.id}`,
        description: `${formatCredits(credits)} unused plan credits expired`,
      });
      // Expired credits are gone as if spent: a crossing warns and may auto-recharge.
      if (created) await afterBalanceDrop(tx, { orgId: bucket.orgId, entry, autoRecharge: true });
    }
    await tx.update(creditGrants).set({ remaining: 0, expiredAt: sql`now()` }).where(eq(creditGrants.id, bucket.id));
    // The bucket is no longer live: what was left of it leaves the organisation's expiring credits.
    if (bucket.remaining > 0) {
      await tx
        .update(organizations)
        .set({ expiringCredits: sql`${organizations.expiringCredits} - ${bucket.remaining}` })
        .where(eq(organizations.id, bucket.orgId));
    }
    log.info({ event: "credits_expired", orgId: bucket.orgId, grantId: bucket.id, credits }, "expiring credits expired");
    return { grantId, outcome: "expired", credits };
  });
}

/** The sweep: every bucket due by `now` and not yet expired, each in its own transaction. */
export async function expireDueGrants(db: Db, now: Date = new Date(), limit = 500): Promise<ExpireOutcome[]> {
  const due = await db
    .select({ id: creditGrants.id })
    .from(creditGrants)
    .where(and(isNull(creditGrants.expiredAt), lte(creditGrants.expiresAt, now)))
    .orderBy(asc(creditGrants.expiresAt))
    .limit(limit);
  const out: ExpireOutcome[] = [];
  for (const { id } of due) out.push(await expireGrant(db, id, now));
  return out;
}

/** Job handler: one bucket (enqueued at grant time) or, without an id, the sweep. */
export async function runExpireJob(db: Db, data: { grantId?: string }): Promise<unknown> {
  if (data.grantId) {
    const r = await expireGrant(db, data.grantId);
    // pg-boss may start a job a little early relative to our clock: retry until due.
    if (r.outcome === "not_due") throw new Error(`grant ${data.grantId} is not due yet`);
    return r;
  }
  const all = await expireDueGrants(db);
  return { expired: all.filter((r) => r.outcome === "expired").length };
}
