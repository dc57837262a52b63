// The delivery API and its money path, asserted on the database: no overdraft under 200
// concurrent deliveries, one debit per Idempotency-Key (same answer on retries), refusals that
// write nothing, the per-key rate limit, and the pause for credits with its resume by a top-up.
import { afterEach, describe, expect, it } from "vitest";
import { and, eq, sql } from "drizzle-orm";
import { apiKeys, auditLog, campaigns, creditEntries, deliveries } from "@/db/schema";
import { revokeApiKey } from "@/lib/api-keys/service";
import { recordDelivery } from "@/lib/deliveries/service";
import { recordDemoDeliveryDef } from "@/lib/deliveries/actions";
import { runOrgAction } from "@/lib/actions/org-action";
import { resumeCampaignsCoveredBy } from "@/lib/campaigns/service";
import { grantCredits } from "@/lib/ledger/ledger";
import { useTestDatabase } from "../support/context";
import { makeOrg, makeUser, snapshot } from "../support/fixtures";
import { MAX_BODY_BYTES } from "@/lib/deliveries/receive";
import { callDeliveryApi, deliveryFingerprint, fund, makeActiveCampaign, makeApiKey, whileOrgRowHeld } from "../support/deliveries";
import { streamedBody } from "../support/streamed-body";

const { db } = useTestDatabase();

afterEach(() => {
  delete process.env.API_RATE_LIMIT_PER_MINUTE;
  delete process.env.CREDITLOOP_DEPLOYMENT;
});

async function world(balance: number, cost = 10) {
  const org = await makeOrg(db);
  const admin = await makeUser(db, { orgId: org.id, role: "admin" });
  if (balance > 0) await fund(db, org.id, balance);
  const campaign = await makeActiveCampaign(db, org.id, cost);
  const { key, apiKey } = await makeApiKey(db, org.id, admin.id);
  return { org, admin, campaign, key, apiKey };
}

describe("delivery API", () => {
  it("200 concurrent deliveries against a balance covering 50: exactly 50 debits, balance 0, campaign paused", async () => {
    const w = await world(500, 10);
    const results = await Promise.all(Array.from({ length: 200 }, (_, i) => callDeliveryApi(db, w.campaign.id, { key: w.key, idempotencyKey: `d-${i}` })));
    const byStatus = results.reduce<Record<number, number>>((m, r) => ({ ...m, [r.status]: (m[r.status] ?? 0) + 1 }), {});
    expect(byStatus[201]).toBe(50);
    expect(byStatus[402]).toBe(150);
    for (const r of results.filter((r) => r.status === 402)) expect(r.body.error.code).toBe("insufficient_credits");

    const s = await snapshot(db, w.org.id);
    expect(s.balance).toBe(0);
    expect(s.ledgerSum).toBe(0);
    expect(s.entries.filter((e) => e.kind === "usage")).toHaveLength(50);
    expect(s.campaigns[0]).toMatchObject({ status: "paused", pauseReason: "insufficient_credits", deliveriesCount: 50 });
    const rows = await db.select().from(deliveries).where(eq(deliveries.orgId, w.org.id));
    expect(rows.filter((d) => d.status === "delivered")).toHaveLength(50);
    // Every delivered row points at its own entry, keyed delivery:<id>.
    for (const d of rows.filter((d) => d.status === "delivered")) {
      const [e] = await db.select().from(creditEntries).where(eq(creditEntries.id, d.entryId!));
      expect(e).toMatchObject({ idempotencyKey: `delivery:${d.id}`, deliveryId: d.id, amount: -10, campaignId: w.campaign.id });
    }
    // Balances after each debit step down by the cost without gaps: 490 … 0.
    expect(s.entries.filter((e) => e.kind === "usage").map((e) => e.balanceAfter).sort((a, b) => b - a)).toEqual(Array.from({ length: 50 }, (_, i) => 490 - i * 10));
  });

  it("identical requests arriving at the same instant never fail on the delivery's key (repeated rounds of 12)", async () => {
    // Both inserts can pass the conflict pre-check before either has written its index entries;
    // the loser must then be a replay, not a unique-violation 500 (it was, on the primary key,
    // when only (org_id, idempotency_key) was the ON CONFLICT target).
    const w = await world(10_000, 10);
    for (let round = 0; round < 25; round++) {
      const results = await Promise.all(Array.from({ length: 12 }, () => callDeliveryApi(db, w.campaign.id, { key: w.key, idempotencyKey: `burst-${round}` })));
      expect(results.map((r) => r.status)).toEqual(Array(12).fill(201));
    }
    const s = await snapshot(db, w.org.id);
    expect(s.entries.filter((e) => e.kind === "usage")).toHaveLength(25);
    expect(s.balance).toBe(10_000 - 25 * 10);
  });

  it("a retried request debits once and gets the same answer, even when the retries race", async () => {
    const w = await world(100, 10);
    const body = JSON.stringify({ reference: "creator-42/post-7" });
    const racing = await Promise.all(Array.from({ length: 10 }, () => callDeliveryApi(db, w.campaign.id, { key: w.key, idempotencyKey: "same-key", body })));
    const later = await callDeliveryApi(db, w.campaign.id, { key: w.key, idempotencyKey: "same-key", body });
    for (const r of [...racing, later]) {
      expect(r.status).toBe(201);
      expect(r.body).toEqual(racing[0]!.body);
    }
    expect(racing.filter((r) => r.headers.get("idempotent-replayed") === "true")).toHaveLength(9);
    expect(later.headers.get("idempotent-replayed")).toBe("true");
    expect(racing[0]!.body.delivery).toMatchObject({ object: "delivery", campaign_id: w.campaign.id, status: "delivered", credits: 10, balance_after: 90, reference: "creator-42/post-7" });
    const s = await snapshot(db, w.org.id);
    expect(s.balance).toBe(90);
    expect(s.entries.filter((e) => e.kind === "usage")).toHaveLength(1);
    expect(s.campaigns[0]!.deliveriesCount).toBe(1);
  });

  it("a retry naming the campaign in another letter case is the same request: 201 replayed, one debit", async () => {
    // UUIDs are case-insensitive (the route accepts either, PostgreSQL matches either); the
    // request hash must not tell them apart, or the retry is 409 idempotency_key_reused.
    const w = await world(100, 10);
    const first = await callDeliveryApi(db, w.campaign.id.toUpperCase(), { key: w.key, idempotencyKey: "case", body: JSON.stringify({ reference: "r" }) });
    const retry = await callDeliveryApi(db, w.campaign.id.toLowerCase(), { key: w.key, idempotencyKey: "case", body: JSON.stringify({ reference: "r" }) });
    expect([first.status, retry.status]).toEqual([201, 201]);
    expect(first.headers.get("idempotent-replayed")).toBeNull();
    expect(retry.headers.get("idempotent-replayed")).toBe("true");
    expect(retry.body).toEqual(first.body);
    expect(first.body.delivery.campaign_id).toBe(w.campaign.id);
    const s = await snapshot(db, w.org.id);
    expect(s.balance).toBe(90);
    expect(s.entries.filter((e) => e.kind === "usage")).toHaveLength(1);
    expect(await db.select().from(deliveries).where(eq(deliveries.orgId, w.org.id))).toHaveLength(1);
  });

  it("the same key with a different request is refused and writes nothing", async () => {
    const w = await world(100, 10);
    const first = await callDeliveryApi(db, w.campaign.id, { key: w.key, idempotencyKey: "k1", body: JSON.stringify({ reference: "a" }) });
    expect(first.status).toBe(201);
    const before = await deliveryFingerprint(db);
    const other = await makeActiveCampaign(db, w.org.id, 5);
    const before2 = await deliveryFingerprint(db);
    const r1 = await callDeliveryApi(db, w.campaign.id, { key: w.key, idempotencyKey: "k1", body: JSON.stringify({ reference: "b" }) });
    const r2 = await callDeliveryApi(db, other.id, { key: w.key, idempotencyKey: "k1", body: JSON.stringify({ reference: "a" }) });
    expect(before).not.toBe(before2);
    for (const r of [r1, r2]) {
      expect(r.status).toBe(409);
      expect(r.body.error.code).toBe("idempotency_key_reused");
    }
    // Only the rate-limit counter of the (valid) key moved.
    const strip = (f: string) => f.split("\n").filter((l) => !l.startsWith("api_key_windows:")).join("\n");
    expect(strip(await deliveryFingerprint(db))).toBe(strip(before2));
    expect((await snapshot(db, w.org.id)).balance).toBe(90);
  });

  it("refuses missing, malformed, revoked and other organisations' keys, and bad requests, with its documented errors, writing nothing", async () => {
    const w = await world(100, 10);
    const other = await world(100, 10);
    const revoked = await makeApiKey(db, w.org.id, w.admin.id);
    await revokeApiKey(db, { orgId: w.org.id, keyId: revoked.apiKey.id, userId: w.admin.id });
    const audit = await db.select().from(auditLog).where(eq(auditLog.orgId, w.org.id)).orderBy(auditLog.id);
    expect(audit.map((a) => [a.action, a.targetId, a.actorUserId])).toEqual([
      ["apikey.create", w.apiKey.id, w.admin.id],
      ["apikey.create", revoked.apiKey.id, w.admin.id],
      ["apikey.revoke", revoked.apiKey.id, w.admin.id],
    ]);
    const before = await deliveryFingerprint(db);

    const cases: [string, Promise<Awaited<ReturnType<typeof callDeliveryApi>>>, number, string][] = [
      ["no key", callDeliveryApi(db, w.campaign.id, {}), 401, "unauthenticated"],
      ["not a bearer", callDeliveryApi(db, w.campaign.id, { headers: { authorization: `Basic ${w.key}` } }), 401, "unauthenticated"],
      ["malformed key", callDeliveryApi(db, w.campaign.id, { key: "cl_test_nope" }), 401, "unauthenticated"],
      ["unknown key", callDeliveryApi(db, w.campaign.id, { key: `cl_test_${"A".repeat(43)}` }), 401, "unauthenticated"],
      ["revoked key", callDeliveryApi(db, w.campaign.id, { key: revoked.key }), 401, "unauthenticated"],
      ["other organisation's key", callDeliveryApi(db, w.campaign.id, { key: other.key }), 404, "not_found"],
      ["unknown campaign", callDeliveryApi(db, crypto.randomUUID(), { key: w.key }), 404, "not_found"],
      ["campaign id not a uuid", callDeliveryApi(db, "1' OR '1'='1", { key: w.key }), 404, "not_found"],
      ["no Idempotency-Key", callDeliveryApi(db, w.campaign.id, { key: w.key, idempotencyKey: null }), 400, "invalid_request"],
      ["empty Idempotency-Key", callDeliveryApi(db, w.campaign.id, { key: w.key, idempotencyKey: "" }), 400, "invalid_request"],
      ["Idempotency-Key too long", callDeliveryApi(db, w.campaign.id, { key: w.key, idempotencyKey: "k".repeat(256) }), 400, "invalid_request"],
      ["malformed JSON", callDeliveryApi(db, w.campaign.id, { key: w.key, body: "{nope" }), 400, "invalid_request"],
      ["array body", callDeliveryApi(db, w.campaign.id, { key: w.key, body: "[]" }), 400, "invalid_request"],
      ["string body", callDeliveryApi(db, w.campaign.id, { key: w.key, body: '"x"' }), 400, "invalid_request"],
      ["unknown field", callDeliveryApi(db, w.campaign.id, { key: w.key, body: JSON.stringify({ credits: -500 }) }), 400, "invalid_request"],
      ["reference not a string", callDeliveryApi(db, w.campaign.id, { key: w.key, body: JSON.stringify({ reference: 5 }) }), 400, "invalid_request"],
      ["reference too long", callDeliveryApi(db, w.campaign.id, { key: w.key, body: JSON.stringify({ reference: "r".repeat(201) }) }), 400, "invalid_request"],
      ["reference with control characters", callDeliveryApi(db, w.campaign.id, { key: w.key, body: JSON.stringify({ reference: "a\u0000b" }) }), 400, "invalid_request"],
      ["HTML reference is data, but a wrong content type is refused", callDeliveryApi(db, w.campaign.id, { key: w.key, contentType: "text/html", body: JSON.stringify({ reference: "<script>alert(1)</script>" }) }), 415, "unsupported_media_type"],
      ["huge body", callDeliveryApi(db, w.campaign.id, { key: w.key, body: JSON.stringify({ reference: "x".repeat(20_000) }) }), 413, "payload_too_large"],
    ];
    for (const [name, call, status, code] of cases) {
      const r = await call;
      expect({ name, status: r.status, code: r.body.error?.code, keys: Object.keys(r.body), errorKeys: Object.keys(r.body.error ?? {}).sort() }).toEqual({
        name,
        status,
        code,
        keys: ["error"],
        errorKeys: ["code", "message"],
      });
      expect(typeof r.body.error.message).toBe("string");
    }
    expect(await deliveryFingerprint(db)).toBe(before);
  });

  it("a reference's 200 characters are characters: 200 emoji (400 UTF-16 units) are taken and stored whole, 201 are refused", async () => {
    const w = await world(100, 10);
    const emoji = "\u{1F600}";
    const ok = await callDeliveryApi(db, w.campaign.id, { key: w.key, idempotencyKey: "emoji-200", body: JSON.stringify({ reference: emoji.repeat(200) }) });
    expect(ok.status).toBe(201);
    expect(ok.body.delivery.reference).toBe(emoji.repeat(200));
    const [row] = await db.select({ reference: deliveries.reference }).from(deliveries).where(eq(deliveries.orgId, w.org.id));
    expect(row!.reference).toBe(emoji.repeat(200));
    const before = await deliveryFingerprint(db);
    const long = await callDeliveryApi(db, w.campaign.id, { key: w.key, idempotencyKey: "emoji-201", body: JSON.stringify({ reference: emoji.repeat(201) }) });
    expect([long.status, long.body.error?.code]).toEqual([400, "invalid_request"]);
    expect(await deliveryFingerprint(db)).toBe(before);
    expect((await snapshot(db, w.org.id)).balance).toBe(90);
  });

  it("a reference that is not well-formed Unicode (a lone surrogate) is refused (400), not stored altered; pairs are fine", async () => {
    // JSON can carry "\ud800" alone; stored as UTF-8 it would become U+FFFD, so the delivery's
    // reference would differ from the one sent (and from a retry's).
    const w = await world(100, 10);
    const before = await deliveryFingerprint(db);
    for (const reference of ["a\ud800", "\udc00b", "x\udfff\ud800y"]) {
      const r = await callDeliveryApi(db, w.campaign.id, { key: w.key, body: JSON.stringify({ reference }) });
      expect({ reference, status: r.status, code: r.body.error?.code }).toEqual({ reference, status: 400, code: "invalid_request" });
    }
    expect(await deliveryFingerprint(db)).toBe(before);
    const ok = await callDeliveryApi(db, w.campaign.id, { key: w.key, body: JSON.stringify({ reference: "post-\u{1F600}" }) });
    expect([ok.status, ok.body.delivery?.reference]).toEqual([201, "post-\u{1F600}"]);
    const [row] = await db.select().from(deliveries).where(eq(deliveries.orgId, w.org.id));
    expect(row!.reference).toBe("post-\u{1F600}");
  });

  it("a chunked body without Content-Length is cut off at the cap (413) without reading the rest, writing nothing", async () => {
    // Content-Length is optional: a chunked request has none. The body must be read with a byte
    // cap, not buffered whole (50 MB here) before being measured.
    const w = await world(100, 10);
    const before = await deliveryFingerprint(db);
    const big = streamedBody(50 * 1024 * 1024, 4096);
    const r = await callDeliveryApi(db, w.campaign.id, { key: w.key, body: big.stream });
    expect([r.status, r.body.error?.code, Object.keys(r.body.error ?? {}).sort()]).toEqual([413, "payload_too_large", ["code", "message"]]);
    // The cap plus what the stream pulls ahead (a few chunks), and the rest is cancelled.
    expect(big.pulled()).toBeLessThanOrEqual(MAX_BODY_BYTES + 4 * 4096);
    expect(big.cancelled()).toBe(true);
    expect(await deliveryFingerprint(db)).toBe(before);
    // A streamed body at the cap is read, and judged as JSON (spaces only: an empty body, {}).
    const atCap = streamedBody(MAX_BODY_BYTES, 4096);
    const ok = await callDeliveryApi(db, w.campaign.id, { key: w.key, idempotencyKey: "at-cap", body: atCap.stream });
    expect(ok.status).toBe(201);
    expect(atCap.pulled()).toBe(MAX_BODY_BYTES);
    expect((await snapshot(db, w.org.id)).balance).toBe(90);
  });

  it("a key revoked while its request's body is still arriving does not record or pay: 401, nothing written", async () => {
    // The key is checked before the body is read; the revocation lands while the body streams
    // (pull() runs on the first read, not before: highWaterMark 0), so only a check ordered with
    // the recording can see it.
    const w = await world(100, 10);
    const before = await deliveryFingerprint(db);
    const slow = new ReadableStream<Uint8Array>(
      {
        async pull(controller) {
          await revokeApiKey(db, { orgId: w.org.id, keyId: w.apiKey.id, userId: w.admin.id });
          controller.enqueue(new TextEncoder().encode("{}"));
          controller.close();
        },
      },
      { highWaterMark: 0 },
    );
    const r = await callDeliveryApi(db, w.campaign.id, { key: w.key, body: slow });
    expect([r.status, r.body.error?.code]).toEqual([401, "unauthenticated"]);
    const [key] = await db.select().from(apiKeys).where(eq(apiKeys.id, w.apiKey.id));
    expect(key!.revokedAt).not.toBeNull();
    // Only the revocation itself changed anything (the key's row); no window counted the request.
    const strip = (f: string) => f.split("\n").filter((l) => !l.startsWith("api_keys:")).join("\n");
    expect(strip(await deliveryFingerprint(db))).toBe(strip(before));
    const s = await snapshot(db, w.org.id);
    expect(s.balance).toBe(100);
    expect(s.entries.filter((e) => e.kind === "usage")).toHaveLength(0);
    expect(await db.select().from(deliveries).where(eq(deliveries.orgId, w.org.id))).toHaveLength(0);
    // Revoked after the rate limit too: the recording transaction itself refuses the key.
    await expect(recordDelivery(db, { orgId: w.org.id, campaignId: w.campaign.id, idempotencyKey: "after-limit", apiKeyId: w.apiKey.id })).rejects.toMatchObject({
      code: "unauthenticated",
    });
    expect(await db.select().from(deliveries).where(eq(deliveries.orgId, w.org.id))).toHaveLength(0);
  });

  it("a campaign that is not running is refused (409), one paused for credits with 402, and nothing is debited", async () => {
    const w = await world(100, 10);
    await db.update(campaigns).set({ status: "draft" }).where(eq(campaigns.id, w.campaign.id));
    const draft = await callDeliveryApi(db, w.campaign.id, { key: w.key });
    expect([draft.status, draft.body.error.code]).toEqual([409, "campaign_not_active"]);
    await db.update(campaigns).set({ status: "paused", pauseReason: "insufficient_credits", pausedAt: new Date() }).where(eq(campaigns.id, w.campaign.id));
    const paused = await callDeliveryApi(db, w.campaign.id, { key: w.key });
    expect([paused.status, paused.body.error.code]).toEqual([402, "insufficient_credits"]);
    expect(await db.select().from(deliveries)).toHaveLength(0);
    expect((await snapshot(db, w.org.id)).balance).toBe(100);
  });

  it("a campaign stopped while its delivery waited for the organisation's lock: 409, and the debit and the claim roll back (both paths)", async () => {
    // General path: the debit, then the count (guarded: still active) together with the
    // delivery's own update. Another transaction holds the organisation row, so the delivery
    // waits at its debit while the campaign is cancelled; when it goes on, the count finds the
    // campaign not active. One call: it waits at the organisation's lock, then reads the campaign
    // (locked after the organisation) and leaves it to the general path.
    for (const oneCall of [true, false]) {
      const w = await world(100, 10);
      const outcome = await whileOrgRowHeld(
        db,
        w.org.id,
        () => recordDelivery(db, { orgId: w.org.id, campaignId: w.campaign.id, idempotencyKey: "stopped-meanwhile" }, { oneCall }).then(() => null, (e: unknown) => e),
        () => db.update(campaigns).set({ status: "cancelled" }).where(eq(campaigns.id, w.campaign.id)),
      );
      expect(outcome, `oneCall ${oneCall}`).toMatchObject({ code: "conflict", details: { apiCode: "campaign_not_active" } });
      const s = await snapshot(db, w.org.id);
      expect(s.balance).toBe(100);
      expect(s.ledgerSum).toBe(100);
      expect(s.entries.filter((e) => e.kind === "usage")).toHaveLength(0);
      expect(s.campaigns[0]).toMatchObject({ status: "cancelled", deliveriesCount: 0 });
      expect(await db.select().from(deliveries).where(eq(deliveries.orgId, w.org.id))).toHaveLength(0);
    }
  });

  it("a refusal for credits whose campaign was cancelled or paused for billing meanwhile: 409 and nothing written (402 only if it is now paused for credits)", async () => {
    // The general path (the one call leaves a delivery the balance cannot cover to it): balance
    // 5, cost 10, no overage: the request read the campaign as active, then waits for the
    // organisation's lock to decide the refusal; the campaign changes meanwhile. Its pause
    // (guarded: still active) then matches nothing — and a refusal recorded for a campaign that
    // is not running would tell the platform to top up, for a campaign a top-up will not resume.
    const meanwhile = async (change: Partial<typeof campaigns.$inferInsert>) => {
      const w = await world(5, 10);
      const r = await whileOrgRowHeld(
        db,
        w.org.id,
        () =>
          recordDelivery(db, { orgId: w.org.id, campaignId: w.campaign.id, idempotencyKey: "changed-meanwhile", apiKeyId: w.apiKey.id }, { oneCall: false }).then(
            () => null,
            (e: unknown) => e,
          ),
        () => db.update(campaigns).set(change).where(eq(campaigns.id, w.campaign.id)),
      );
      const s = await snapshot(db, w.org.id);
      expect(s.balance).toBe(5);
      expect(s.entries.filter((e) => e.kind === "usage")).toHaveLength(0);
      expect(s.campaigns[0]).toMatchObject({ ...change, deliveriesCount: 0 });
      return { r, rows: await db.select().from(deliveries).where(eq(deliveries.orgId, w.org.id)) };
    };
    for (const change of [{ status: "cancelled" as const }, { status: "paused" as const, pauseReason: "billing" as const }]) {
      const { r, rows } = await meanwhile(change);
      expect({ change, r }).toMatchObject({ change, r: { code: "conflict", details: { apiCode: "campaign_not_active" } } });
      expect(rows).toHaveLength(0);
    }
    // Paused for credits meanwhile (a concurrent refusal): refused for credits, as it would be now.
    const { r, rows } = await meanwhile({ status: "paused", pauseReason: "insufficient_credits" });
    expect(r).toMatchObject({ code: "insufficient_credits" });
    expect(rows).toMatchObject([{ status: "refused", entryId: null }]);
  });

  it("rate-limits each key per minute in the database; the refused request debits nothing", async () => {
    process.env.API_RATE_LIMIT_PER_MINUTE = "3";
    const w = await world(1000, 10);
    const second = await makeApiKey(db, w.org.id, w.admin.id);
    const results = await Promise.all(Array.from({ length: 5 }, (_, i) => callDeliveryApi(db, w.campaign.id, { key: w.key, idempotencyKey: `r-${i}` })));
    expect(results.filter((r) => r.status === 201)).toHaveLength(3);
    const limited = results.filter((r) => r.status === 429);
    expect(limited).toHaveLength(2);
    for (const r of limited) {
      expect(r.body.error.code).toBe("rate_limited");
      expect(Number(r.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
      // Sliding window: possibly into the next minute, never more than two.
      expect(Number(r.headers.get("retry-after"))).toBeLessThanOrEqual(120);
    }
    const [used] = await db.select().from(apiKeys).where(eq(apiKeys.id, w.apiKey.id));
    expect(used!.lastUsedAt).not.toBeNull();
    // Another key of the same organisation has its own window.
    expect((await callDeliveryApi(db, w.campaign.id, { key: second.key })).status).toBe(201);
    const s = await snapshot(db, w.org.id);
    expect(s.entries.filter((e) => e.kind === "usage")).toHaveLength(4);
    expect(s.balance).toBe(960);
  });

  it("the limit slides: a key that spent the previous minute at the limit cannot burst again as the next minute starts", async () => {
    process.env.API_RATE_LIMIT_PER_MINUTE = "3";
    const w = await world(1000, 10);
    // The previous minute, far over the limit (its weight stays above it for all but the
    // minute's last few milliseconds).
    await db.execute(sql`insert into api_key_windows (key_id, window_start, count) values (${w.apiKey.id}, date_trunc('minute', now()) - interval '1 minute', 100000)`);
    const r = await callDeliveryApi(db, w.campaign.id, { key: w.key });
    expect([r.status, r.body.error.code]).toEqual([429, "rate_limited"]);
    expect(Number(r.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    const s = await snapshot(db, w.org.id);
    expect(s.entries.filter((e) => e.kind === "usage")).toHaveLength(0);
    expect(s.balance).toBe(1000);
  });

  it("a refused delivery pauses the campaign; a top-up resumes it and the same key then delivers once", async () => {
    const w = await world(15, 10);
    expect((await callDeliveryApi(db, w.campaign.id, { key: w.key, idempotencyKey: "a" })).status).toBe(201);
    const refused = await callDeliveryApi(db, w.campaign.id, { key: w.key, idempotencyKey: "b" });
    expect([refused.status, refused.body.error.code]).toEqual([402, "insufficient_credits"]);
    expect((await snapshot(db, w.org.id)).campaigns[0]).toMatchObject({ status: "paused", pauseReason: "insufficient_credits" });
    const [row] = await db.select().from(deliveries).where(and(eq(deliveries.orgId, w.org.id), eq(deliveries.idempotencyKey, "b")));
    expect(row).toMatchObject({ status: "refused", entryId: null });

    // A top-up as settlement does it: grant, then resume in the same transaction.
    await db.transaction(async (tx) => {
      const { entry } = await grantCredits(tx, { orgId: w.org.id, amount: 100, kind: "purchase", idempotencyKey: "topup:1", description: "top-up" });
      await resumeCampaignsCoveredBy(tx, w.org.id, entry.balanceAfter);
    });
    expect((await snapshot(db, w.org.id)).campaigns[0]!.status).toBe("active");
    const retried = await callDeliveryApi(db, w.campaign.id, { key: w.key, idempotencyKey: "b" });
    expect(retried.status).toBe(201);
    expect(retried.body.delivery.balance_after).toBe(95);
    expect((await callDeliveryApi(db, w.campaign.id, { key: w.key, idempotencyKey: "b" })).body).toEqual(retried.body);
    const s = await snapshot(db, w.org.id);
    expect(s.balance).toBe(95);
    expect(s.entries.filter((e) => e.kind === "usage")).toHaveLength(2);
  });

  it("a pause never sticks after a grant that covers the campaign (deliveries racing a top-up)", async () => {
    for (let round = 0; round < 5; round++) {
      const w = await world(20, 10);
      const racing = Array.from({ length: 6 }, (_, i) => recordDelivery(db, { orgId: w.org.id, campaignId: w.campaign.id, idempotencyKey: `x-${round}-${i}` }).catch(() => null));
      const topUp = db.transaction(async (tx) => {
        const { entry } = await grantCredits(tx, { orgId: w.org.id, amount: 1000, kind: "purchase", idempotencyKey: `race:${round}`, description: "top-up" });
        await resumeCampaignsCoveredBy(tx, w.org.id, entry.balanceAfter);
      });
      await Promise.all([...racing, topUp]);
      const s = await snapshot(db, w.org.id);
      // Whatever the interleaving, a balance that covers the campaign never leaves it paused for credits.
      if (s.balance >= 10) expect(s.campaigns[0]!.status).toBe("active");
      expect(s.balance).toBe(s.ledgerSum);
    }
  });

  it("the demo button's action records through the same path in demo deployments, and is refused in production", async () => {
    const w = await world(100, 10);
    const requestId = crypto.randomUUID();
    const input = { orgSlug: w.org.slug, campaignId: w.campaign.id, requestId };
    const first = await runOrgAction(recordDemoDeliveryDef, w.admin, input, db);
    const again = await runOrgAction(recordDemoDeliveryDef, w.admin, input, db);
    expect(first).toMatchObject({ ok: true, data: { credits: 10, balanceAfter: 90, replayed: false } });
    expect(again).toMatchObject({ ok: true, data: { balanceAfter: 90, replayed: true } });
    process.env.CREDITLOOP_DEPLOYMENT = "production";
    expect(await runOrgAction(recordDemoDeliveryDef, w.admin, { ...input, requestId: crypto.randomUUID() }, db)).toMatchObject({ ok: false, code: "forbidden" });
    const s = await snapshot(db, w.org.id);
    expect(s.balance).toBe(90);
    expect(s.entries.filter((e) => e.kind === "usage")).toHaveLength(1);
  });
});
