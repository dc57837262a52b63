// The code that writes credit_entries and organizations.balance — with two exceptions: plain
// paid top-ups settled by the webhook in one call run the same grant statement inside the
// database function creditloop_settle_paid_topups (db/migrations/0014_settle_paid_topups_batch.sql,
// lib/topups/settle-paid.ts; tests/integration/settle-paid.test.ts compares the rows both leave),
// and plain deliveries recorded in one call run the same debit inside creditloop_record_deliveries
// (db/migrations/0018_record_deliveries_drain.sql, lib/deliveries/one-call.ts;
// tests/integration/deliveries-one-call.test.ts compares them). A change here that alters what a
// grant or a debit writes must change those functions too. Callers pass the
// transaction of the change that causes the entry, so both commit together; a change with no
// other effect may pass the database itself, since the entry and the balance move in one
// statement, which is then its own transaction.
//
// The hot path: every change is ONE statement (a data-modifying CTE) that locks the organisation
// row, appends the entry and moves the cached balance together, keyed by the entry's unique
// idempotency key. The row lock is therefore taken by the last statement a caller needs before
// COMMIT, not at the start of its transaction, so one busy organisation serialises on one
// statement and the commit, not on a chain of round trips. Invariants:
//   - balance = SUM(amount) for every organisation (the entry and the balance move together or
//     not at all: a duplicate key inserts no entry, and the UPDATE joins on the inserted row);
//   - a debit or a guarded negative grant never takes the balance below zero: the guard is
//     evaluated on the locked, latest row version (a locking SELECT re-checks its WHERE after
//     waiting), never on a value read earlier;
//   - only reversal kinds (refund_reversal) may leave a negative balance.
//
// Expiring grants (db/schema/credit-grants.ts): a grant with `expiresAt` also inserts its bucket
// in the same statement. A debit drains the organisation's live buckets, soonest expiry first,
// with one more statement right after its entry, in the caller's transaction — only when the
// organisation has expiring credits left (organizations.expiring_credits, which the same
// statements keep equal to the live buckets' remaining, read from the row the debit locked, so a
// debit of an organisation without expiring credits stays one statement): the debit statement
// already holds the organisation row lock, so that statement (a fresh snapshot in READ COMMITTED)
// sees every committed debit and grant and no other debit or expiry of the organisation can run
// between the two (the expiry job takes the same lock first). Credits beyond the buckets come
// from never-expiring credits. So the caller MUST pass a transaction to debitCredits. Negative
// adjustments and reversals do not touch buckets (they take back purchased credits), so the
// expiry job never takes more than the balance (lib/ledger/expiry.ts).
import { eq, sql } from "drizzle-orm";
import type { DbOrTx } from "@/db/client";
import { creditEntries, organizations, type CreditEntry, type CreditEntryKind } from "@/db/schema";
import { AppError } from "../errors";

export type EntryRefs = {
  purchaseId?: string | null;
  campaignId?: string | null;
  deliveryId?: string | null;
  actorUserId?: string | null;
};

export type GrantInput = EntryRefs & {
  orgId: string;
  amount: number;
  kind: Exclude<CreditEntryKind, "usage">;
  idempotencyKey: string;
  description: string;
  /** Positive grants only: the credits expire then (a bucket in credit_grants drains first). */
  expiresAt?: Date | null;
};

/** Kinds whose negative amount may take the balance below zero (money already given back). */
export const REVERSAL_KINDS: ReadonlySet<CreditEntryKind> = new Set(["refund_reversal"]);

/**
 * Adds credits (or takes them back, when negative) exactly once per idempotency key, in one
 * statement. A key already used returns its entry with `created: false` and changes nothing.
 * A negative amount of a non-reversal kind is refused (AppError "conflict") when the balance
 * cannot cover it.
 */
export async function grantCredits(
  tx: DbOrTx,
  input: GrantInput,
): Promise<{ entry: CreditEntry; created: boolean; bucketId: string | null }> {
  if (!Number.isSafeInteger(input.amount) || input.amount === 0) throw new RangeError("credit amount must be a non-zero integer");
  if (input.expiresAt && input.amount < 0) throw new RangeError("only a positive grant can expire");
  const guarded = input.amount < 0 && !REVERSAL_KINDS.has(input.kind);
  const appended = await appendEntry(tx, input, input.kind, input.amount, guarded, input.expiresAt ?? null);
  if (appended) return { entry: appended.entry, created: true, bucketId: appended.bucketId };
  const existing = await entryByKey(tx, input.idempotencyKey);
  if (existing) return { entry: existing, created: false, bucketId: null };
  if (guarded) throw new AppError("conflict", "The balance cannot cover this change.", { orgId: input.orgId, amount: input.amount });
  throw new Error(`organisation ${input.orgId} not found`);
}

export type DebitInput = EntryRefs & {
  orgId: string;
  credits: number;
  idempotencyKey: string;
  description: string;
};

/**
 * Spends credits with one guarded statement (no read-then-write): the balance can never go below
 * zero, however many debits run at once. Returns null when the balance cannot cover it; a key
 * already used returns its entry and changes nothing.
 */
/**
 * Locks the organisation's row as a balance change locks it (FOR NO KEY UPDATE: it waits for
 * grants and debits, not for the key-share locks other rows' foreign keys hold on it) and reads
 * its balance under that lock. Taken before any of the organisation's campaign or bucket rows,
 * the order grants, debits and one-call deliveries take them in. Undefined: no such organisation.
 */
export async function lockBalance(tx: DbOrTx, orgId: string): Promise<{ balance: number } | undefined> {
  const [org] = await tx.select({ balance: organizations.balance }).from(organizations).where(eq(organizations.id, orgId)).for("no key update");
  return org;
}

export async function debitCredits(tx: DbOrTx, input: DebitInput): Promise<CreditEntry | null> {
  if (!Number.isSafeInteger(input.credits) || input.credits <= 0) throw new RangeError("debit must be a positive integer");
  const appended = await appendEntry(tx, input, "usage", -input.credits, true, null);
  if (appended) {
    // Only an organisation with credits left in expiring buckets has any to drain (read from the
    // row the debit locked): the common debit stays one statement.
    if (appended.expiringCredits > 0) await drainBuckets(tx, input.orgId, input.credits);
    return appended.entry;
  }
  return (await entryByKey(tx, input.idempotencyKey)) ?? null;
}

/**
 * Takes `credits` from the organisation's live buckets, soonest expiry first (ties: oldest
 * bucket). Runs right after the debit's statement, under the organisation lock it took; what the
 * buckets cannot cover came from never-expiring credits. One definition, in the database
 * (creditloop_drain_buckets, db/migrations/0018_record_deliveries_drain.sql), shared with the
 * one-call delivery.
 */
async function drainBuckets(tx: DbOrTx, orgId: string, credits: number): Promise<void> {
  await tx.execute(sql`select creditloop_drain_buckets(${orgId}::uuid, ${credits}::int)`).execute();
}

/**
 * The one statement behind grants and debits. The SELECT … FOR NO KEY UPDATE inside the INSERT
 * locks the organisation row (the lock an UPDATE of its balance takes anyway; it does not block
 * the key-share locks of foreign-key checks, so a checkout inserting a purchase for the same
 * organisation does not wait for it) (waiting for a concurrent writer, then re-reading the latest version and
 * re-checking the guard), computes balance_after from it, and the entry is inserted unless its
 * key exists (a key already committed is skipped before the lock is even taken; a concurrent
 * one is caught by ON CONFLICT). The UPDATE moves the balance only when an entry was inserted.
 * Returns the new entry, or undefined when nothing was written (duplicate key, guard failed, or
 * no such organisation).
 */
async function appendEntry(
  tx: DbOrTx,
  input: EntryRefs & { orgId: string; idempotencyKey: string; description: string },
  kind: CreditEntryKind,
  amount: number,
  guarded: boolean,
  expiresAt: Date | null,
): Promise<{ entry: CreditEntry; bucketId: string | null; expiringCredits: number } | undefined> {
  // execute() writes the statement at once (awaiting the builder would start it a microtask
  // later), so a caller pipelining statements around this one gets them in the order it calls.
  const expires = expiresAt ? expiresAt.toISOString() : null;
  const rows = await tx
    .execute<EntryRow>(sql`
    with entry as (
      insert into credit_entries
        (org_id, kind, amount, balance_after, idempotency_key, description, purchase_id, campaign_id, delivery_id, actor_user_id)
      select o.id, ${kind}::credit_entry_kind, ${amount}::int, o.balance + ${amount}::int, ${input.idempotencyKey}::text,
             ${input.description}::text, ${input.purchaseId ?? null}::uuid, ${input.campaignId ?? null}::uuid,
             ${input.deliveryId ?? null}::uuid, ${input.actorUserId ?? null}::uuid
      from organizations o
      where o.id = ${input.orgId}::uuid
        and (not ${guarded}::boolean or o.balance + ${amount}::int >= 0)
        and not exists (select 1 from credit_entries k where k.idempotency_key = ${input.idempotencyKey}::text)
      for no key update of o
      on conflict (idempotency_key) do nothing
      returning *
    ), moved as (
      update organizations
      set balance = organizations.balance + entry.amount,
          expiring_credits = organizations.expiring_credits + (case when ${expires}::timestamptz is not null then entry.amount else 0 end)
      from entry
      where organizations.id = entry.org_id
      returning organizations.expiring_credits
    ), bucket as (
      insert into credit_grants (org_id, entry_id, amount, remaining, expires_at)
      select entry.org_id, entry.id, entry.amount, entry.amount, ${expires}::timestamptz
      from entry
      where ${expires}::timestamptz is not null
      returning id
    )
    select entry.*, (select id from bucket) as bucket_id, (select expiring_credits from moved) as expiring_credits from entry`)
    .execute();
  const row = rows[0];
  return row ? { entry: toEntry(row), bucketId: row.bucket_id ?? null, expiringCredits: row.expiring_credits ?? 0 } : undefined;
}

async function entryByKey(tx: DbOrTx, idempotencyKey: string): Promise<CreditEntry | undefined> {
  const [entry] = await tx.select().from(creditEntries).where(eq(creditEntries.idempotencyKey, idempotencyKey));
  return entry;
}

type EntryRow = {
  id: string | number;
  org_id: string;
  kind: CreditEntryKind;
  amount: number;
  balance_after: number;
  idempotency_key: string;
  description: string;
  purchase_id: string | null;
  campaign_id: string | null;
  delivery_id: string | null;
  actor_user_id: string | null;
  created_at: string | Date;
  bucket_id?: string | null;
  expiring_credits?: number | null;
};

/** A raw credit_entries row as the schema's row type (the driver returns int8 and timestamps as text). */
function toEntry(r: EntryRow): CreditEntry {
  return {
    id: Number(r.id),
    orgId: r.org_id,
    kind: r.kind,
    amount: r.amount,
    balanceAfter: r.balance_after,
    idempotencyKey: r.idempotency_key,
    description: r.description,
    purchaseId: r.purchase_id,
    campaignId: r.campaign_id,
    deliveryId: r.delivery_id,
    actorUserId: r.actor_user_id,
    createdAt: r.created_at instanceof Date ? r.created_at : new Date(r.created_at),
  };
}
