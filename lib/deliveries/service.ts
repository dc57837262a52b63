// Recording a campaign delivery and paying for it. The plain case (campaign active, the balance
// covers it, no balance-care threshold crossed) goes first to one batched database call
// (lib/deliveries/one-call.ts) with the same effects; everything else, in one transaction per
// request:
//   1. claim the delivery row (id derived from org + Idempotency-Key; a retry finds it locked or
//      done: a delivered row is answered again as it was, never debited twice);
//   2. debit the campaign's cost with the ledger's guarded single-statement debit (key
//      delivery:<id>), then count the delivery on the campaign (guarded: still active);
//   3. balance care in the same transaction: a low-balance crossing records its notification and
//      an auto-recharge crossing enqueues its job (lib/balance-care/after-debit.ts).
// When the balance cannot cover the cost, the delivery is refused (recorded as refused) and the
// campaign pauses for insufficient credits — decided under the organisation's row lock, so a
// grant committing meanwhile (which resumes campaigns under that same lock) is either seen (we
// debit after all) or comes after our pause (and resumes it): never "paid but still paused".
// Overage (plans with `overage`, an active subscription with its metered item:
// lib/usage/record.ts): instead of refusing, the balance pays what it can — down to zero, with
// the same guarded single statement keyed delivery:<id> — and the shortfall becomes a
// usage_records row in this same transaction (unique per delivery, so a retry records it once),
// billed on the next invoice through the Billing Meter (lib/usage/push.ts). The split is decided
// under the organisation's row lock (lib/usage/rules.ts splitDelivery), so concurrent deliveries
// past zero each see the balance the previous one left: usage sums exactly.
// Lock order everywhere: organisation row, then campaign rows (as settlement's grant + resume).
import { and, eq, isNull, sql } from "drizzle-orm";
import type { Db, Tx } from "@/db/client";
import { apiKeys, balanceSettings, campaigns, creditEntries, deliveries, type Delivery } from "@/db/schema";
import { AppError } from "../errors";
import { debitCredits, lockBalance } from "../ledger/ledger";
import { log } from "../log";
import { afterDebit } from "../balance-care/after-debit";
import { overageTerms, recordUsage } from "../usage/record";
import { splitDelivery } from "../usage/rules";
import { classifyDbError, hasSqlState, LOCK_TIMEOUT, ONE_CALL_RACE } from "../db-errors";
import { advisoryXactLock, LOCK_NAMESPACE } from "../locks";
import { deliveryIdFor, deliveryRequestHash } from "./ids";
import { deliveryBatcher, oneCallCase, oneCallItem } from "./one-call";

export type DeliveryRequest = {
  orgId: string;
  campaignId: string;
  idempotencyKey: string;
  reference?: string | null;
  apiKeyId?: string | null;
  userId?: string | null;
};

export type DeliveryView = {
  id: string;
  campaignId: string;
  status: "delivered";
  /** The campaign's cost for this delivery… */
  credits: number;
  /** …of which this much went past the balance, billed as metered usage (0 without overage). */
  overageCredits: number;
  balanceAfter: number;
  reference: string | null;
  createdAt: string;
};

export type DeliveryOutcome = { replayed: boolean; delivery: DeliveryView };

const CAMPAIGN_PAUSED_FOR_CREDITS = "The campaign is paused for insufficient credits. Top up to resume it, then retry.";

/** Whether the campaign exists and belongs to the organisation (reads only). */
export async function campaignOfOrg(db: Db | Tx, orgId: string, campaignId: string): Promise<boolean> {
  const [row] = await db.select({ id: campaigns.id }).from(campaigns).where(and(eq(campaigns.id, campaignId), eq(campaigns.orgId, orgId)));
  return Boolean(row);
}

const KEY_REVOKED = "This API key is not valid (unknown or revoked).";

/**
 * The campaign (of the organisation) and its organisation's balance settings; for a request made
 * with an API key, only while the key is live, and the key row is then held FOR SHARE until the
 * transaction ends. The key was checked when the request arrived, but revocation may commit while
 * its body is still read: with the share lock, a revocation either committed first (the row is
 * missing: 401) or waits for this delivery to commit (revoked after it). In the same statement,
 * so no extra round trip. Cannot deadlock with revokeApiKey (lib/api-keys/service.ts): this is
 * the transaction's first statement, so while it waits for a revocation it holds nothing; a
 * revocation's only conflicting lock is its update of the key row, its first statement, and
 * after that it takes only key-share locks (foreign keys of its audit row), which conflict with
 * none of the organisation or campaign locks a delivery takes (no key update, never FOR UPDATE).
 * Deliveries' share locks do not block each other; the rate limit's once-a-minute last_used_at
 * update (lib/api-keys/rate-limit.ts, a statement of its own) waits for those in flight.
 */
function readCampaign(tx: Tx, req: DeliveryRequest) {
  const where = and(eq(campaigns.id, req.campaignId), eq(campaigns.orgId, req.orgId));
  const q = tx.select({ campaign: campaigns, settings: balanceSettings }).from(campaigns).leftJoin(balanceSettings, eq(balanceSettings.orgId, campaigns.orgId));
  if (!req.apiKeyId) return q.where(where);
  return q
    .innerJoin(apiKeys, and(eq(apiKeys.id, req.apiKeyId), eq(apiKeys.orgId, campaigns.orgId), isNull(apiKeys.revokedAt)))
    .where(where)
    .for("share", { of: apiKeys });
}

function notActive(c: { status: string; pauseReason: string | null }): AppError {
  return new AppError("conflict", `The campaign is ${c.status}${c.pauseReason ? ` (${c.pauseReason.replace(/_/g, " ")})` : ""}, not active.`, {
    apiCode: "campaign_not_active",
  });
}

type TxResult = { kind: "delivered"; outcome: DeliveryOutcome } | { kind: "refused"; deliveryId: string; paused: boolean };

/**
 * Counts a delivery on its campaign, which must still be running. Paused or stopped between our
 * read and the debit: the delivery is refused and its transaction (with the debit) rolls back.
 */
async function countDelivery(tx: Tx, campaignId: string): Promise<void> {
  const [counted] = await tx
    .update(campaigns)
    .set({ deliveriesCount: sql`${campaigns.deliveriesCount} + 1`, updatedAt: sql`now()` })
    .where(and(eq(campaigns.id, campaignId), eq(campaigns.status, "active")))
    .returning({ id: campaigns.id });
  if (!counted) throw new AppError("conflict", "The campaign stopped running while this delivery was recorded.", { apiCode: "campaign_not_active" });
}

/**
 * Records a delivery: the plain case in one batched call (lib/deliveries/one-call.ts), everything
 * else (and the plain case when that call says so) on the general path below. `oneCall: false`
 * skips the one call (tests compare the two paths).
 */
export async function recordDelivery(db: Db, req: DeliveryRequest, opts: { oneCall?: boolean } = {}): Promise<DeliveryOutcome> {
  if (opts.oneCall !== false && oneCallCase(req)) {
    const fast = await deliveryBatcher(db)
      .submit(oneCallItem(req))
      .catch(async (e: unknown) => {
        // The call rolled back whole on a race (a claim that collided, a deadlock or a
        // serialisation failure): the general path decides.
        if (hasSqlState(e, ONE_CALL_RACE) || classifyDbError(e)?.kind === "conflict") return null;
        // Its batch waited past lock_timeout for the organisation's row, held elsewhere. A replay
        // needs no lock: answer it. Anything else fails as it would have on the general path,
        // which would only wait for the same row again (a pool connection each meanwhile).
        if (hasSqlState(e, LOCK_TIMEOUT)) {
          const replay = await replayWithoutLocks(db, req);
          if (replay) return { outcome: "replayed" as const, ...replay };
        }
        throw e;
      });
    if (fast && fast.outcome !== "slow") return { replayed: fast.replayed, delivery: fast.delivery };
  }
  return recordDeliveryInTransaction(db, req);
}

/**
 * The answer to a request already delivered, read without any lock (a delivered row never
 * changes), with the general path's checks: the campaign is the organisation's, the key is live.
 */
async function replayWithoutLocks(db: Db, req: DeliveryRequest): Promise<DeliveryOutcome | null> {
  const id = deliveryIdFor(req.orgId, req.idempotencyKey);
  const [d] = await db.select().from(deliveries).where(eq(deliveries.id, id));
  if (!d || d.status !== "delivered" || d.orgId !== req.orgId || d.requestHash !== deliveryRequestHash(req.campaignId, req.reference ?? null)) return null;
  if (!(await campaignOfOrg(db, req.orgId, req.campaignId))) return null;
  if (req.apiKeyId) {
    const [key] = await db
      .select({ id: apiKeys.id })
      .from(apiKeys)
      .where(and(eq(apiKeys.id, req.apiKeyId), eq(apiKeys.orgId, req.orgId), isNull(apiKeys.revokedAt)));
    if (!key) return null;
  }
  return { replayed: true, delivery: await viewOf(db, d) };
}

async function recordDeliveryInTransaction(db: Db, req: DeliveryRequest): Promise<DeliveryOutcome> {
  const id = deliveryIdFor(req.orgId, req.idempotencyKey);
  const reference = req.reference ?? null;
  const requestHash = deliveryRequestHash(req.campaignId, reference);
  const result = await db.transaction(async (tx): Promise<TxResult> => {
    // The claim's lock first, sent with the campaign's read (one round trip): a request with the
    // same key waits here, holding nothing, until this one ends; the one call only tries it
    // (lib/deliveries/one-call.ts).
    const claimLock = advisoryXactLock(tx, LOCK_NAMESPACE.deliveryClaims, id);
    const [[row]] = await Promise.all([readCampaign(tx, req), claimLock]);
    if (!row) {
      // Rare path: say which of the two is missing.
      if (req.apiKeyId && (await campaignOfOrg(tx, req.orgId, req.campaignId))) throw new AppError("unauthenticated", KEY_REVOKED, { apiCode: "unauthenticated" });
      throw new AppError("not_found", "Campaign not found.");
    }
    const { campaign, settings } = row;

    const [claimed] = await tx
      .insert(deliveries)
      .values({
        id,
        orgId: req.orgId,
        campaignId: campaign.id,
        idempotencyKey: req.idempotencyKey,
        requestHash,
        reference,
        status: "refused",
        credits: campaign.costPerDelivery,
        apiKeyId: req.apiKeyId ?? null,
        userId: req.userId ?? null,
      })
      // No conflict target: every unique index is an arbiter. The id is derived from (org, key),
      // so two identical requests collide on the primary key as well; with only (org_id,
      // idempotency_key) as the target, one that passed the pre-check together with the other
      // failed with a unique violation on the primary key instead of becoming a replay.
      .onConflictDoNothing()
      .returning();
    let delivery: Delivery | undefined = claimed;
    if (!delivery) {
      // A retry (or a concurrent duplicate, which waited for the first to commit on the index).
      [delivery] = await tx.select().from(deliveries).where(eq(deliveries.id, id)).for("update");
      if (!delivery) throw new Error(`delivery ${id} conflicted but cannot be read`);
      if (delivery.requestHash !== requestHash || delivery.orgId !== req.orgId) {
        throw new AppError("conflict", "This Idempotency-Key was already used for a different delivery request.", { apiCode: "idempotency_key_reused" });
      }
      if (delivery.status === "delivered") return { kind: "delivered", outcome: { replayed: true, delivery: await viewOf(tx, delivery) } };
      // A refused delivery may be retried with its key once credits arrived.
    }

    if (campaign.status !== "active") {
      if (campaign.status === "paused" && campaign.pauseReason === "insufficient_credits") {
        throw new AppError("insufficient_credits", CAMPAIGN_PAUSED_FOR_CREDITS);
      }
      throw notActive(campaign);
    }

    const cost = campaign.costPerDelivery;
    for (let attempt = 0; attempt < 3; attempt++) {
      const entry = await debitCredits(tx, {
        orgId: req.orgId,
        credits: cost,
        idempotencyKey: `delivery:${id}`,
        description: `Delivery for ${campaign.name}`,
        campaignId: campaign.id,
        deliveryId: id,
      });
      if (entry) {
        // Both statements go out together (one round trip under the organisation lock the debit
        // took); a campaign that stopped meanwhile fails the count and rolls the whole back.
        const [, [done]] = await Promise.all([
          countDelivery(tx, campaign.id),
          tx
            .update(deliveries)
            .set({ status: "delivered", entryId: entry.id, credits: cost, updatedAt: sql`now()` })
            .where(eq(deliveries.id, id))
            .returning(),
        ]);
        await afterDebit(tx, { orgId: req.orgId, entry, credits: cost, settings });
        return { kind: "delivered", outcome: { replayed: false, delivery: view(done!, entry.balanceAfter) } };
      }
      // The guarded debit found too little. Decide under the organisation's lock, so a grant
      // that commits meanwhile cannot resume the campaign before we pause it. lockBalance takes
      // the lock a balance UPDATE takes, which does not wait for the key-share locks other
      // deliveries' foreign keys hold on the row (FOR UPDATE would, and concurrent refusals would
      // deadlock on each other). The overage terms are read first, outside the lock.
      const terms = await overageTerms(tx, req.orgId);
      const org = await lockBalance(tx, req.orgId);
      if (org && org.balance >= cost) continue; // credits arrived: debit after all
      const split = terms && org ? splitDelivery(org.balance, cost) : null;
      if (terms && split) {
        let entry: Awaited<ReturnType<typeof debitCredits>> = null;
        if (split.debit > 0) {
          entry = await debitCredits(tx, {
            orgId: req.orgId,
            credits: split.debit,
            idempotencyKey: `delivery:${id}`,
            description: `Delivery for ${campaign.name} (${split.overage} credits as overage)`,
            campaignId: campaign.id,
            deliveryId: id,
          });
          // We hold the organisation lock and the balance covers split.debit: this cannot miss.
          if (!entry) throw new Error(`delivery ${id}: the overage debit of ${split.debit} was refused under the lock`);
        }
        await countDelivery(tx, campaign.id);
        await recordUsage(tx, { orgId: req.orgId, deliveryId: id, credits: split.overage, terms });
        const [done] = await tx
          .update(deliveries)
          .set({ status: "delivered", entryId: entry?.id ?? null, credits: cost, overageCredits: split.overage, updatedAt: sql`now()` })
          .where(eq(deliveries.id, id))
          .returning();
        if (entry) await afterDebit(tx, { orgId: req.orgId, entry, credits: split.debit, settings });
        return { kind: "delivered", outcome: { replayed: false, delivery: view(done!, 0) } };
      }
      const [paused] = await tx
        .update(campaigns)
        .set({ status: "paused", pauseReason: "insufficient_credits", pausedAt: sql`now()`, updatedAt: sql`now()` })
        .where(and(eq(campaigns.id, campaign.id), eq(campaigns.status, "active")))
        .returning({ id: campaigns.id });
      if (!paused) {
        // The campaign stopped running after we read it. Only a pause for credits (a concurrent
        // refusal) makes this a refusal for credits; cancelled, completed or paused for billing,
        // it is not active, and a refused row would have the platform top up for a campaign a
        // top-up will not resume: throw, rolling back the claim. (Status is read after the
        // guarded update, which waited for any writer of the row; grants, which resume
        // campaigns, wait for the organisation lock we hold.)
        const [now] = await tx.select({ status: campaigns.status, pauseReason: campaigns.pauseReason }).from(campaigns).where(eq(campaigns.id, campaign.id));
        if (now?.status === "active") continue; // resumed by hand meanwhile: decide again
        if (!(now?.status === "paused" && now.pauseReason === "insufficient_credits")) throw notActive(now ?? campaign);
      }
      await tx.update(deliveries).set({ credits: cost, updatedAt: sql`now()` }).where(eq(deliveries.id, id));
      return { kind: "refused", deliveryId: id, paused: Boolean(paused) };
    }
    throw new AppError("conflict", "The balance is changing too fast; retry the delivery.", { apiCode: "retry" });
  });
  if (result.kind === "refused") {
    log.info({ event: "delivery_refused", orgId: req.orgId, campaignId: req.campaignId, deliveryId: result.deliveryId, paused: result.paused }, "delivery refused: insufficient credits");
    throw new AppError("insufficient_credits", "The balance does not cover this delivery. The campaign is paused until a top-up covers it.", { deliveryId: result.deliveryId });
  }
  return result.outcome;
}

function view(d: Delivery, balanceAfter: number): DeliveryView {
  return {
    id: d.id,
    campaignId: d.campaignId,
    status: "delivered",
    credits: d.credits,
    overageCredits: d.overageCredits,
    balanceAfter,
    reference: d.reference,
    createdAt: d.createdAt.toISOString(),
  };
}

async function viewOf(tx: Db | Tx, d: Delivery): Promise<DeliveryView> {
  // Entirely in overage: no entry, and the balance it left was zero.
  if (d.entryId === null) return view(d, 0);
  const [entry] = await tx.select({ balanceAfter: creditEntries.balanceAfter }).from(creditEntries).where(eq(creditEntries.id, d.entryId));
  return view(d, entry!.balanceAfter);
}
