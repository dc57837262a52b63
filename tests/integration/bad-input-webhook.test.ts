// The webhook route with hostile or broken requests, called as Next calls it (a Request): a huge
// body (declared or streamed), a wrong content type, a missing or bad signature, an empty body, and
// bodies that are signed correctly but are not events. Each gets a clear 4xx, and nothing is
// written anywhere in the database.
import { afterEach, describe, expect, it, vi } from "vitest";
import { POST } from "@/app/api/stripe/webhook/route";
import { log } from "@/lib/log";
import { stripe } from "@/lib/stripe/client";
import { WEBHOOK_MAX_BYTES } from "@/lib/webhooks/receive";
import { useTestDatabase } from "../support/context";
import { changedTables, dbFingerprint } from "../support/db-fingerprint";
import { makeOrg, makeUser } from "../support/fixtures";
import { streamedBody } from "../support/streamed-body";

const { db } = useTestDatabase();
const URL_ = "http://localhost:3000/api/stripe/webhook";
const secret = () => process.env.STRIPE_WEBHOOK_SECRET!.split(",")[0]!;
const sign = (payload: string) => stripe().webhooks.generateTestHeaderString({ payload, secret: secret() });

afterEach(() => vi.restoreAllMocks());

function request(body: BodyInit | null, headers: Record<string, string>, init: RequestInit = {}) {
  return new Request(URL_, { method: "POST", body, headers, ...init, ...(body instanceof ReadableStream ? { duplex: "half" } : {}) } as RequestInit);
}

/** A body that streams `total` bytes in 64 KB chunks and records how much was pulled. */
const streamOf = (total: number) => streamedBody(total, 64 * 1024);

async function expectNothingWritten(run: () => Promise<Response>) {
  const org = await makeOrg(db);
  await makeUser(db, { orgId: org.id });
  const before = await dbFingerprint(db);
  const res = await run();
  expect(changedTables(before, await dbFingerprint(db))).toEqual([]);
  return { res, json: (await res.json()) as { error?: string } };
}

const validEvent = () =>
  JSON.stringify({ id: "evt_test_bad_input", object: "event", type: "customer.created", livemode: false, created: 1, api_version: "2025-01-01", data: { object: { id: "cus_1", object: "customer" } } });

describe("webhook bad input", () => {
  it("a declared Content-Length over the limit → 413 before the body is read", async () => {
    const { stream, pulled } = streamOf(WEBHOOK_MAX_BYTES + 1);
    const { res, json } = await expectNothingWritten(() =>
      POST(request(stream, { "content-type": "application/json", "content-length": String(WEBHOOK_MAX_BYTES + 1), "stripe-signature": "t=1,v1=00" })),
    );
    expect(res.status).toBe(413);
    expect(json.error).toMatch(/too large/i);
    expect(pulled()).toBeLessThanOrEqual(64 * 1024 * 2); // at most what the stream pre-buffers
  });

  it("a streamed body without Content-Length is cut off at the limit → 413, without reading the rest", async () => {
    const total = WEBHOOK_MAX_BYTES * 20;
    const { stream, pulled } = streamOf(total);
    const { res } = await expectNothingWritten(() => POST(request(stream, { "content-type": "application/json", "stripe-signature": "t=1,v1=00" })));
    expect(res.status).toBe(413);
    expect(pulled()).toBeLessThan(WEBHOOK_MAX_BYTES + 3 * 64 * 1024);
  });

  it("a lying Content-Length (small) with a big body is still cut off → 413", async () => {
    const { stream } = streamOf(WEBHOOK_MAX_BYTES + 10);
    const { res } = await expectNothingWritten(() => POST(request(stream, { "content-type": "application/json", "content-length": "10", "stripe-signature": "t=1,v1=00" })));
    expect(res.status).toBe(413);
  });

  it("a body exactly at the limit is read (and then judged by its signature)", async () => {
    const { stream } = streamOf(WEBHOOK_MAX_BYTES);
    const { res, json } = await expectNothingWritten(() => POST(request(stream, { "content-type": "application/json", "stripe-signature": "t=1,v1=00" })));
    expect(res.status).toBe(400);
    expect(json.error).toBe("invalid signature");
  });

  it.each([
    ["text/plain", "text/plain"],
    ["form encoded", "application/x-www-form-urlencoded"],
    ["xml", "application/xml"],
    ["missing", null],
  ])("content type %s → 415, even when correctly signed", async (_n, type) => {
    const payload = validEvent();
    const headers: Record<string, string> = { "stripe-signature": sign(payload) };
    if (type) headers["content-type"] = type;
    const { res, json } = await expectNothingWritten(() => POST(request(type ? payload : new TextEncoder().encode(payload), headers)));
    expect(res.status).toBe(415);
    expect(json.error).toMatch(/application\/json/);
  });

  it("application/json with a charset (as Stripe sends it) is accepted", async () => {
    const payload = validEvent();
    const res = await POST(request(payload, { "content-type": "application/json; charset=utf-8", "stripe-signature": sign(payload) }));
    expect(res.status).toBe(200);
  });

  it.each([
    ["missing signature header", validEvent(), () => null],
    ["garbage signature header", validEvent(), () => "<script>alert(1)</script>"],
    ["malformed JSON, unsigned", "{not json", () => "t=1,v1=abc"],
  ])("%s → 400 invalid signature", async (_n, payload, header) => {
    const h = header();
    const warn = vi.spyOn(log, "warn");
    const { res, json } = await expectNothingWritten(() =>
      POST(request(payload, { "content-type": "application/json", ...(h ? { "stripe-signature": h } : {}) })),
    );
    expect(res.status).toBe(400);
    expect(json).toEqual({ error: "invalid signature" });
    expect(warn.mock.calls.some(([o]) => (o as { event?: string }).event === "webhook_bad_signature")).toBe(true);
  });

  it.each([
    ["without a signature", null],
    ["with a signature header", "sign"],
  ])("an empty body %s → 400 empty body", async (_n, how) => {
    const headers: Record<string, string> = { "content-type": "application/json" };
    if (how) headers["stripe-signature"] = `t=${Math.floor(Date.now() / 1000)},v1=${"0".repeat(64)}`;
    const { res, json } = await expectNothingWritten(() => POST(request("", headers)));
    expect(res.status).toBe(400);
    expect(json).toEqual({ error: "empty body" });
  });

  it.each([
    ["malformed JSON", "{\"id\": \"evt_1\", "],
    ["JSON that is not an object", "[1,2,3]"],
    ["a string", "\"evt_123\""],
    ["an object that is not an event", JSON.stringify({ hello: "world" })],
    ["an event without data.object", JSON.stringify({ id: "evt_1", object: "event", type: "payment_intent.succeeded", livemode: false, created: 1, data: {} })],
    ["an event with a non-string type", JSON.stringify({ id: "evt_1", object: "event", type: 42, livemode: false, created: 1, data: { object: {} } })],
    ["HTML in the id", JSON.stringify({ id: "<img src=x onerror=alert(1)>", object: "event", type: "x", livemode: false, created: 1, data: { object: {} } })],
  ])("signed correctly but %s → 400 malformed event, logged as malformed (not as a bad signature)", async (_n, payload) => {
    const warn = vi.spyOn(log, "warn");
    const { res, json } = await expectNothingWritten(() => POST(request(payload, { "content-type": "application/json", "stripe-signature": sign(payload) })));
    expect(res.status).toBe(400);
    expect(json).toEqual({ error: "malformed event" });
    const events = warn.mock.calls.map(([o]) => (o as { event?: string }).event);
    expect(events).toContain("webhook_malformed_event");
    expect(events).not.toContain("webhook_bad_signature");
  });
});
