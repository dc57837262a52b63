// The one-call delivery (lib/deliveries/one-call.ts, the database function in
// db/migrations/0016_record_deliveries_batch.sql as replaced by 0017) against the general path it short-cuts
// (lib/deliveries/service.ts): the same rows and the same answer for the same request, alone and
// in batches; "slow" with nothing written for every case it leaves to the general path; a claim
// another request is recording left to it (no deadlock with the general path); a claim that still
// collides rolled back whole; a failed batch retried delivery by delivery; no deadlock between
// batches or with the grace-end pause; the ledger exact under 1,000 concurrent deliveries.
import { describe, expect, it } from "vitest";
import { eq, sql } from "drizzle-orm";
import { campaigns, creditDailyTotals, creditEntries, creditGrants, deliveries, organizations } from "@/db/schema";
import { recordDelivery, type DeliveryRequest } from "@/lib/deliveries/service";
import { newDeliveryBatcher, oneCallItem, recordDeliveriesInOneCall } from "@/lib/deliveries/one-call";
import { deliveryRequestHash } from "@/lib/deliveries/ids";
import { revokeApiKey } from "@/lib/api-keys/service";
import { grantCredits } from "@/lib/ledger/ledger";
import { saveCard, setAutoRecharge, setLowBalanceThreshold } from "@/lib/balance-care/settings";
import { pauseForBilling } from "@/lib/subscriptions/dunning";
import { createDb } from "@/db/client";
import { classifyDbError } from "@/lib/db-errors";
import { useTestDatabase } from "../support/context";
import { makeOrg, makePack, makeUser, snapshot } from "../support/fixtures";
import { deliveryFingerprint, fund, holdOrgRow, makeActiveCampaign, makeApiKey, untilLockWaiters, whileOrgRowHeld } from "../support/deliveries";

const { db } = useTestDatabase();

async function world(balance: number, cost = 10, name = "Launch, 1,000 creators") {
  const org = await makeOrg(db);
  const admin = await makeUser(db, { orgId: org.id, role: "admin" });
  if (balance > 0) await fund(db, org.id, balance);
  const campaign = await makeActiveCampaign(db, org.id, cost, name);
  const { apiKey } = await makeApiKey(db, org.id, admin.id);
  return { org, admin, campaign, apiKey };
}
type World = Awaited<ReturnType<typeof world>>;

const request = (w: World, idempotencyKey: string, extra: Partial<DeliveryRequest> = {}): DeliveryRequest => ({
  orgId: w.org.id,
  campaignId: w.campaign.id,
  idempotencyKey,
  apiKeyId: w.apiKey.id,
  ...extra,
});

/** Everything one delivery leaves behind in its organisation, with its own ids and times normalised. */
async function effects(w: World) {
  const s = await snapshot(db, w.org.id);
  const [org] = await db.execute<Record<string, unknown>>(sql`select balance, expiring_credits from organizations where id = ${w.org.id}::uuid`);
  const rows = await db.select().from(deliveries).where(eq(deliveries.orgId, w.org.id));
  const totals = await db.select().from(creditDailyTotals).where(eq(creditDailyTotals.orgId, w.org.id));
  const notes = await db.execute<{ n: number }>(sql`select count(*)::int n from notifications where org_id = ${w.org.id}::uuid`);
  return {
    org,
    ledgerSum: s.ledgerSum,
    entries: s.entries.map(({ id: _i, orgId: _o, createdAt: _c, campaignId, deliveryId, ...e }) => ({
      ...e,
      idempotencyKey: e.idempotencyKey.replace(/^delivery:.*/, "delivery:<d>").replace(/^(bonus|sub):.*/, "$1:<k>"),
      campaign: campaignId === w.campaign.id,
      delivery: deliveryId !== null && rows.some((d) => d.id === deliveryId && d.entryId !== null),
    })),
    campaigns: s.campaigns.map(({ id: _i, orgId: _o, createdAt: _c, updatedAt, ...c }) => ({ ...c, touched: updatedAt > w.campaign.updatedAt })),
    deliveries: rows.map(({ id: _i, orgId: _o, campaignId, apiKeyId, entryId, createdAt, updatedAt, requestHash, userId, ...d }) => ({
      ...d,
      requestHash: requestHash === deliveryRequestHash(w.campaign.id, d.reference),
      userId: userId === null ? null : userId === w.admin.id,
      campaign: campaignId === w.campaign.id,
      apiKey: apiKeyId === w.apiKey.id,
      entry: s.entries.some((e) => e.id === entryId),
      touched: updatedAt >= createdAt,
    })),
    totals: totals.map(({ orgId: _o, day: _d, campaignId, ...t }) => ({ ...t, campaign: campaignId === w.campaign.id })),
    notifications: notes[0]!.n,
  };
}

const answer = (o: { replayed: boolean; delivery: { id: string; createdAt: string } & Record<string, unknown> }, w: World) => ({
  ...o,
  delivery: { ...o.delivery, id: "<d>", createdAt: "<t>", campaignId: o.delivery.campaignId === w.campaign.id },
});

describe("one-call delivery", () => {
  it("leaves exactly the rows the general path leaves and gives the same answer, first time and replayed (with and without expiring credits)", async () => {
    for (const expiring of [0, 15]) {
      await sameAsGeneralPath(expiring);
    }
  });

  async function sameAsGeneralPath(expiring: number) {
    const results = [];
    for (const oneCall of [true, false]) {
      const w = await world(1_000);
      // A plan's credits, in a bucket that expires: the debits drain it first (15 = one and a half deliveries).
      const at = new Date(Date.now() + 86_400_000);
      if (expiring) await db.transaction((tx) => grantCredits(tx, { orgId: w.org.id, amount: expiring, kind: "subscription_grant", idempotencyKey: `sub:${crypto.randomUUID()}`, description: "plan", expiresAt: at }));
      const first = await recordDelivery(db, request(w, "k-1", { reference: "post 42" }), { oneCall });
      const again = await recordDelivery(db, request(w, "k-1", { reference: "post 42" }), { oneCall });
      // Without an API key (the demo button), with the user who pressed it.
      const byUser = await recordDelivery(db, { orgId: w.org.id, campaignId: w.campaign.id, idempotencyKey: "k-2", userId: w.admin.id }, { oneCall });
      const grants = (await db.select().from(creditGrants).where(eq(creditGrants.orgId, w.org.id))).map((g) => ({ amount: g.amount, remaining: g.remaining, expires: g.expiresAt?.getTime() === at.getTime(), expiredAt: g.expiredAt }));
      results.push({ first: answer(first, w), again: answer(again, w), byUser: answer(byUser, w), effects: await effects(w), grants });
    }
    expect(results[0]).toEqual(results[1]);
    const balance = 990 + expiring;
    expect(results[0]!.first).toMatchObject({ replayed: false, delivery: { credits: 10, overageCredits: 0, balanceAfter: balance, reference: "post 42" } });
    expect(results[0]!.again).toMatchObject({ replayed: true, delivery: { balanceAfter: balance } });
    expect(results[0]!.effects.entries.at(-1)).toMatchObject({ amount: -10, description: "Delivery for Launch, 1,000 creators", delivery: true });
    if (expiring) {
      // 15 in the bucket, two deliveries of 10: the bucket is empty, the rest came from the bonus.
      expect(results[0]!.grants).toEqual([{ amount: 15, remaining: 0, expires: true, expiredAt: null }]);
      expect(results[0]!.effects.org).toMatchObject({ expiring_credits: 0 });
    }
  }

  it("the function records a plain delivery itself (it is not the general path doing it)", async () => {
    const w = await world(100);
    const [out] = await recordDeliveriesInOneCall(db, [oneCallItem(request(w, "direct"))]);
    expect(out).toMatchObject({ outcome: "delivered", replayed: false, delivery: { credits: 10, balanceAfter: 90 } });
    const [again] = await recordDeliveriesInOneCall(db, [oneCallItem(request(w, "direct"))]);
    expect(again).toMatchObject({ outcome: "replayed", replayed: true, delivery: { id: out!.outcome === "slow" ? "" : out!.delivery.id, balanceAfter: 90 } });
    const s = await snapshot(db, w.org.id);
    expect([s.balance, s.ledgerSum, s.campaigns[0]!.deliveriesCount]).toEqual([90, 90, 1]);
  });

  it("a replay is answered without waiting for the organisation's lock (a busy organisation's retries do not queue behind its debits)", async () => {
    const w = await world(100);
    await recordDelivery(db, request(w, "replay-me"));
    const out = await whileOrgRowHeld(
      db,
      w.org.id,
      async () => {
        const t = Date.now();
        const r = await recordDeliveriesInOneCall(db, [oneCallItem(request(w, "replay-me"))]);
        return { r, ms: Date.now() - t };
      },
      async () => {},
    );
    expect(out.r).toMatchObject([{ outcome: "replayed", delivery: { balanceAfter: 90 } }]);
    // Answered while the row was held: whileOrgRowHeld waits up to 2 s for a lock waiter first.
    expect(out.ms).toBeLessThan(1500);
  });

  it("through recordDelivery, a replay batched behind a delivery waiting for a held organisation row is still answered (the general path, after the call's lock timeout)", async () => {
    // An app whose lock_timeout is 300 ms (5 s in production); its own batcher.
    const app = createDb(process.env.DATABASE_URL!, { lockTimeoutMs: 300 });
    try {
      const w = await world(100);
      await recordDelivery(db, request(w, "earlier"));
      const held = await holdOrgRow(db, w.org.id);
      // Two fresh deliveries take the organisation's two calls (both wait for the row); a third
      // and the replay then go together in the next call, behind the third's wait.
      const fresh = ["fresh-1", "fresh-2", "fresh-3"].map((k) =>
        recordDelivery(app.db, request(w, k)).then(
          (r) => r,
          (e: unknown) => e,
        ),
      );
      const replay = await recordDelivery(app.db, request(w, "earlier"));
      expect(replay).toMatchObject({ replayed: true, delivery: { balanceAfter: 90 } });
      // The fresh ones waited for the row on both paths, and were refused as too slow, writing nothing.
      for (const f of fresh) expect(classifyDbError(await f)).toMatchObject({ kind: "timeout", code: "55P03" });
      await held.release();
      const s = await snapshot(db, w.org.id);
      expect([s.balance, s.ledgerSum, s.entries.filter((e) => e.kind === "usage").length]).toEqual([90, 90, 1]);
    } finally {
      await app.sql.end({ timeout: 5 });
    }
  });

  it("an organisation whose row is held elsewhere does not take the pool: its deliveries fail at lock_timeout (no second wait on the general path) while another organisation's are recorded", async () => {
    // A small app: pool of 4 (two calls in all for deliveries), lock_timeout 300 ms.
    const app = createDb(process.env.DATABASE_URL!, { max: 4, lockTimeoutMs: 300 });
    try {
      const a = await world(1_000);
      const b = await world(1_000);
      const held = await holdOrgRow(db, a.org.id);
      const started = Date.now();
      const stuck = Array.from({ length: 40 }, (_, i) =>
        recordDelivery(app.db, request(a, `a-${i}`)).then(
          () => null,
          (e: unknown) => classifyDbError(e)?.code ?? String(e),
        ),
      );
      const other = await recordDelivery(app.db, request(b, "b-1"));
      const otherMs = Date.now() - started;
      const failures = await Promise.all(stuck);
      const allMs = Date.now() - started;
      await held.release();
      expect(other).toMatchObject({ replayed: false, delivery: { balanceAfter: 990 } });
      // Each failed as the held row (55P03) or, queued behind the calls waiting for it past the
      // queue's bound (twice lock_timeout), as a full pool (DB_ACQUIRE_TIMEOUT); nothing else.
      expect(failures.filter((f) => f !== "55P03" && f !== "DB_ACQUIRE_TIMEOUT")).toEqual([]);
      expect(failures).toContain("55P03");
      // b waited for a free call (a's two calls hold both for one lock_timeout), not for a's 40
      // deliveries to wait again one by one on the general path (40 × 300 ms over 4 connections).
      expect(otherMs).toBeLessThan(2_000);
      expect(allMs).toBeLessThan(2_500);
      const s = await snapshot(db, a.org.id);
      expect([s.balance, s.entries.filter((e) => e.kind === "usage").length]).toEqual([1_000, 0]);
      expect(await db.select().from(deliveries).where(eq(deliveries.orgId, a.org.id))).toHaveLength(0);
    } finally {
      await app.sql.end({ timeout: 5 });
    }
  });

  it("answers 'slow' having written nothing for every case it leaves to the general path", async () => {
    type Case = { label: string; setup: (w: World) => Promise<unknown>; req?: (w: World) => DeliveryRequest; balance?: number };
    const other = await world(100);
    const cases: Case[] = [
      { label: "campaign draft", setup: (w) => db.update(campaigns).set({ status: "draft" }).where(eq(campaigns.id, w.campaign.id)) },
      {
        label: "campaign paused for credits",
        setup: (w) => db.update(campaigns).set({ status: "paused", pauseReason: "insufficient_credits", pausedAt: new Date() }).where(eq(campaigns.id, w.campaign.id)),
      },
      { label: "campaign cancelled", setup: (w) => db.update(campaigns).set({ status: "cancelled" }).where(eq(campaigns.id, w.campaign.id)) },
      { label: "another organisation's campaign", setup: async () => {}, req: (w) => request(w, "x", { campaignId: other.campaign.id }) },
      { label: "no such campaign", setup: async () => {}, req: (w) => request(w, "x", { campaignId: crypto.randomUUID() }) },
      { label: "revoked key", setup: (w) => revokeApiKey(db, { orgId: w.org.id, keyId: w.apiKey.id, userId: w.admin.id }) },
      { label: "another organisation's key", setup: async () => {}, req: (w) => request(w, "x", { apiKeyId: other.apiKey.id }) },
      { label: "balance short", setup: async () => {}, balance: 5 },
      { label: "low-balance crossing", setup: (w) => setLowBalanceThreshold(db, { orgId: w.org.id, threshold: 95 }) },
      {
        label: "auto-recharge crossing",
        setup: async (w) => {
          const pack = await makePack(db, { credits: 500, amount: 4900 });
          await saveCard(db, { org: w.org, userId: w.admin.id, requestId: crypto.randomUUID(), paymentMethod: "pm_card_visa" });
          await setAutoRecharge(db, { orgId: w.org.id, enabled: true, threshold: 95, packId: pack.id });
        },
      },
      {
        label: "a refused delivery retried",
        balance: 5,
        setup: async (w) => {
          await recordDelivery(db, request(w, "x")).catch(() => null);
          await fund(db, w.org.id, 100);
          await db.update(campaigns).set({ status: "active", pauseReason: null, pausedAt: null }).where(eq(campaigns.id, w.campaign.id));
        },
      },
      { label: "the key reused for another request", setup: (w) => recordDelivery(db, request(w, "x", { reference: "first" })), req: (w) => request(w, "x", { reference: "second" }) },
    ];
    for (const c of cases) {
      const w = await world(c.balance ?? 100);
      await c.setup(w);
      const before = await deliveryFingerprint(db);
      const out = await recordDeliveriesInOneCall(db, [oneCallItem(c.req ? c.req(w) : request(w, "x"))]);
      expect(out, c.label).toEqual([{ outcome: "slow" }]);
      expect(await deliveryFingerprint(db), c.label).toBe(before);
    }
  });

  it("a batch: an organisation's deliveries in order with exact balances, a key twice answered once then replayed, a slow one in the middle", async () => {
    const a = await world(100, 30);
    const b = await world(100, 10);
    const items = [request(a, "1"), request(b, "1"), request(a, "2"), request(a, "1"), request(a, "3"), request(a, "4"), request(b, "2")].map(oneCallItem);
    const out = await recordDeliveriesInOneCall(db, items);
    expect(out.map((o) => o.outcome)).toEqual(["delivered", "delivered", "delivered", "replayed", "delivered", "slow", "delivered"]);
    expect(out.map((o) => (o.outcome === "slow" ? null : o.delivery.balanceAfter))).toEqual([70, 90, 40, 70, 10, null, 80]);
    for (const [w, balance, n] of [[a, 10, 3], [b, 80, 2]] as const) {
      const s = await snapshot(db, w.org.id);
      expect([s.balance, s.ledgerSum, s.campaigns[0]!.deliveriesCount, s.entries.filter((e) => e.kind === "usage").length]).toEqual([balance, balance, n, n]);
    }
    // The slow one, on the general path: refused for credits, the campaign paused.
    await expect(recordDelivery(db, request(a, "4"))).rejects.toMatchObject({ code: "insufficient_credits" });
    // One transaction wrote the whole batch.
    const [tx] = await db.execute<{ n: number }>(sql`select count(distinct xmin::text)::int n from deliveries where org_id in (${a.org.id}::uuid, ${b.org.id}::uuid) and status = 'delivered'`);
    expect(tx!.n).toBe(1);
  });

  it("the same key on both paths at once: no deadlock, whichever gets the organisation's lock first (one delivery, one debit)", async () => {
    // The general path claims, then waits for the organisation's lock; the call queued for that
    // lock first. Whichever PostgreSQL wakes first: the general path (the call then answers the
    // replay) or the call, which must then leave the key to the general path ("slow") instead of
    // waiting for its claim (each would wait for the other: a deadlock, 40P01 after a second).
    const waiting = async (n: number) => {
      if ((await untilLockWaiters(db, n)) < n) throw new Error(`never ${n} waiting`);
    };
    const outcomes: string[] = [];
    for (let round = 0; round < 8; round++) {
      const w = await world(100);
      const req = request(w, "both-paths");
      const held = await holdOrgRow(db, w.org.id);
      const call = recordDeliveriesInOneCall(db, [oneCallItem(req)]).then(
        (r) => r,
        (e: unknown) => e,
      );
      await waiting(1);
      const general = recordDelivery(db, req, { oneCall: false }).then(
        (r) => r,
        (e: unknown) => e,
      );
      await waiting(2);
      await held.release();
      const [c] = (await call) as { outcome: string }[];
      outcomes.push(c!.outcome);
      expect(["slow", "replayed"]).toContain(c!.outcome);
      expect(await general).toMatchObject({ replayed: false, delivery: { balanceAfter: 90 } });
      const s = await snapshot(db, w.org.id);
      expect([s.balance, s.ledgerSum, s.entries.filter((e) => e.kind === "usage").length, s.campaigns[0]!.deliveriesCount]).toEqual([90, 90, 1, 1]);
      // And a retry, on the one call: the replay.
      expect(await recordDelivery(db, req)).toMatchObject({ replayed: true, delivery: { balanceAfter: 90 } });
    }
    console.log(`both paths, who went first: ${outcomes.join(", ")}`);
  });

  it("a reference the one call cannot carry (a lone surrogate) goes to the general path, as before", async () => {
    const w = await world(100);
    const out = await recordDelivery(db, request(w, "surrogate", { reference: "a\ud800b" }));
    expect(out).toMatchObject({ replayed: false, delivery: { balanceAfter: 90 } });
    expect((await snapshot(db, w.org.id)).balance).toBe(90);
  });

  it("the grace-end pause locks the organisation before any campaign (the order a delivery batch takes them in)", async () => {
    const w = await world(100);
    const second = await makeActiveCampaign(db, w.org.id, 10);
    const held = await holdOrgRow(db, w.org.id);
    let settled = false;
    const pause = db.transaction((tx) => pauseForBilling(tx, w.org.id)).finally(() => (settled = true));
    const waiting = await untilLockWaiters(db, 1, () => settled);
    // It waits for the organisation's row…
    expect([waiting, settled]).toEqual([1, false]);
    // …holding no campaign: both can be locked meanwhile.
    const free = await db.transaction(async (tx) => {
      await tx.execute(sql`set local lock_timeout = '100ms'`);
      return tx.execute<{ id: string }>(sql`select id from campaigns where id in (${w.campaign.id}::uuid, ${second.id}::uuid) for no key update`);
    });
    expect(free).toHaveLength(2);
    await held.release();
    expect(await pause).toBe(2);
  });

  it("a claim that still collides (a writer without the claim's lock) rolls the whole call back (CL001); recordDelivery then takes the general path", async () => {
    const w = await world(100);
    const first = oneCallItem(request(w, "first"));
    const colliding = oneCallItem(request(w, "colliding"));
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    let inserted!: () => void;
    const claimed = new Promise<void>((r) => (inserted = r));
    // Another transaction claims "colliding" (the general path claims before it locks the
    // organisation) and commits only once the call waits on that claim.
    const other = db.transaction(async (tx) => {
      await tx.insert(deliveries).values({ id: colliding.id, orgId: w.org.id, campaignId: w.campaign.id, idempotencyKey: "colliding", requestHash: colliding.requestHash, status: "refused", credits: 10 });
      inserted();
      await released;
    });
    await claimed;
    const call = recordDeliveriesInOneCall(db, [first, colliding]).then(
      () => null,
      (e: unknown) => e,
    );
    await untilLockWaiters(db, 1);
    release();
    await other;
    expect(await call).toMatchObject({ cause: expect.objectContaining({ code: "CL001" }) });
    // Rolled back whole: the first delivery of the call is not there either.
    let s = await snapshot(db, w.org.id);
    expect([s.balance, s.entries.filter((e) => e.kind === "usage").length]).toEqual([100, 0]);
    expect((await db.select().from(deliveries).where(eq(deliveries.orgId, w.org.id))).map((d) => d.idempotencyKey)).toEqual(["colliding"]);
    // The refused claim retried: the general path delivers it.
    expect(await recordDelivery(db, request(w, "colliding"))).toMatchObject({ replayed: false, delivery: { balanceAfter: 90 } });
    s = await snapshot(db, w.org.id);
    expect([s.balance, s.ledgerSum]).toEqual([90, 90]);
  });

  it("a batch that fails is retried delivery by delivery: the bad one fails alone, the others are recorded", async () => {
    const w = await world(1_000);
    const bad = oneCallItem(request(w, "bad"));
    await db.execute(
      sql.raw(`
      create or replace function test_fail_one_delivery() returns trigger language plpgsql as $$
      begin
        if new.id = '${bad.id}'::uuid and new.status = 'delivered' then raise exception 'injected failure for one delivery'; end if;
        return new;
      end $$;
      create trigger test_fail_one_delivery before update on deliveries for each row execute function test_fail_one_delivery();`),
    );
    try {
      const batcher = newDeliveryBatcher(db, 32, 1);
      const items = [request(w, "a"), request(w, "b"), request(w, "bad"), request(w, "c")].map(oneCallItem);
      const out = await Promise.allSettled(items.map((i) => batcher.submit(i)));
      expect(out.map((o) => o.status)).toEqual(["fulfilled", "fulfilled", "rejected", "fulfilled"]);
      const s = await snapshot(db, w.org.id);
      expect([s.balance, s.ledgerSum, s.campaigns[0]!.deliveriesCount]).toEqual([970, 970, 3]);
      expect(await db.select().from(deliveries).where(eq(deliveries.id, bad.id))).toHaveLength(0);
    } finally {
      await db.execute(sql.raw(`drop trigger test_fail_one_delivery on deliveries; drop function test_fail_one_delivery();`));
    }
  });

  it("two calls with the same organisations in opposite orders, at once: no deadlock, every delivery recorded once", async () => {
    const a = await world(1_000);
    const b = await world(1_000);
    for (let round = 0; round < 8; round++) {
      const [x, y] = await Promise.all([
        recordDeliveriesInOneCall(db, [request(a, `a${round}`), request(b, `b${round}`)].map(oneCallItem)),
        recordDeliveriesInOneCall(db, [request(b, `b${round}'`), request(a, `a${round}'`)].map(oneCallItem)),
      ]);
      expect([...x, ...y].map((o) => o.outcome)).toEqual(["delivered", "delivered", "delivered", "delivered"]);
    }
    for (const w of [a, b]) {
      const s = await snapshot(db, w.org.id);
      expect([s.balance, s.ledgerSum, s.campaigns[0]!.deliveriesCount]).toEqual([840, 840, 16]);
    }
  });

  it("1,000 concurrent deliveries on one organisation through recordDelivery: in batches, every one debited once, balances stepping down without gaps", async () => {
    const w = await world(10_000, 7);
    const out = await Promise.all(Array.from({ length: 1000 }, (_, i) => recordDelivery(db, request(w, `hot-${i}`))));
    expect(out.every((o) => !o.replayed)).toBe(true);
    const s = await snapshot(db, w.org.id);
    expect([s.balance, s.ledgerSum, s.campaigns[0]!.deliveriesCount]).toEqual([3_000, 3_000, 1000]);
    const usage = s.entries.filter((e) => e.kind === "usage");
    expect(usage.map((e) => e.balanceAfter)).toEqual(Array.from({ length: 1000 }, (_, i) => 10_000 - 7 * (i + 1)));
    expect(out.map((o) => o.delivery.balanceAfter).sort((x, y) => y - x)).toEqual(usage.map((e) => e.balanceAfter));
    // Far fewer transactions than deliveries: they went in batches.
    const [tx] = await db.execute<{ n: number }>(sql`select count(distinct xmin::text)::int n from deliveries where org_id = ${w.org.id}::uuid`);
    expect(tx!.n).toBeLessThan(200);
    const [org] = await db.select().from(organizations).where(eq(organizations.id, w.org.id));
    expect(org!.balance).toBe(3_000);
    expect(await db.select().from(creditEntries).where(eq(creditEntries.orgId, w.org.id))).toHaveLength(1001);
  });
});
