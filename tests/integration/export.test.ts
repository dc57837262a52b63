// The transactions CSV: admins only (members 403, others 404, signed out 401, nothing else
// leaks), the page's filter, correct escaping with the formula guard, and streaming: 100k rows
// come out page by page, each page read only when the consumer asks for more.
import { beforeEach, describe, expect, it, vi } from "vitest";
import { sql } from "drizzle-orm";
import type { SessionUser } from "@/lib/auth/access";
import { grantCredits } from "@/lib/ledger/ledger";
import { transactionsCsvStream } from "@/lib/billing/transactions-export";
import { useTestDatabase } from "../support/context";
import { makeOrg, makeUser } from "../support/fixtures";

const session = vi.hoisted(() => ({ user: null as SessionUser | null }));
vi.mock("@/lib/auth/session", () => ({ currentUser: async () => session.user, requireUser: async () => session.user }));

const { db } = useTestDatabase();
beforeEach(() => {
  session.user = null;
});

const { GET } = await import("@/app/orgs/[slug]/billing/transactions/export/route");
const call = (slug: string, qs = "") => GET(new Request(`http://localhost/orgs/${slug}/billing/transactions/export${qs}`), { params: Promise.resolve({ slug }) });

/** A tiny CSV parser (quoted cells, doubled quotes, CRLF rows) to check what a spreadsheet reads. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cell += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ",") {
      row.push(cell);
      cell = "";
    } else if (ch === "\r" && text[i + 1] === "\n") {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = "";
      i++;
    } else cell += ch;
  }
  return rows;
}

describe("transactions CSV export", () => {
  it("admins get text/csv with escaped cells and the formula guard; the kind filter applies; others are refused", async () => {
    const org = await makeOrg(db);
    const admin = await makeUser(db, { orgId: org.id, role: "admin" });
    const member = await makeUser(db, { orgId: org.id, role: "member" });
    const staff = await makeUser(db, { isStaff: true });
    const outsider = await makeUser(db, { orgId: (await makeOrg(db)).id, role: "admin" });
    await db.transaction(async (tx) => {
      await grantCredits(tx, { orgId: org.id, amount: 100, kind: "bonus", idempotencyKey: "t:1", description: 'Bonus: "launch", thanks' });
      await grantCredits(tx, { orgId: org.id, amount: -40, kind: "adjustment", idempotencyKey: "t:2", description: "=HYPERLINK(\"http://evil.test\",\"click\")" });
      await grantCredits(tx, { orgId: org.id, amount: 5, kind: "bonus", idempotencyKey: "t:3", description: "@SUM(A1:A9)\nsecond line" });
    });

    session.user = admin;
    const res = await call(org.slug);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/csv; charset=utf-8");
    expect(res.headers.get("content-disposition")).toMatch(new RegExp(`attachment; filename="${org.slug}-transactions-\\d{4}-\\d{2}-\\d{2}\\.csv"`));
    const rows = parseCsv(await res.text());
    expect(rows[0]).toEqual(["entry_id", "created_at", "type", "description", "credits", "balance_after", "purchase_id"]);
    expect(rows.slice(1).map((r) => [r[2], r[3], r[4], r[5]])).toEqual([
      ["bonus", "'@SUM(A1:A9)\nsecond line", "5", "65"],
      ["adjustment", "'=HYPERLINK(\"http://evil.test\",\"click\")", "-40", "60"],
      ["bonus", 'Bonus: "launch", thanks', "100", "100"],
    ]);

    const filtered = parseCsv(await (await call(org.slug, "?kind=adjustment")).text());
    expect(filtered.slice(1).map((r) => r[2])).toEqual(["adjustment"]);
    expect((await call(org.slug, "?kind=nonsense")).status).toBe(400);

    for (const [user, status] of [[null, 401], [member, 403], [staff, 404], [outsider, 404]] as const) {
      session.user = user;
      const r = await call(org.slug);
      expect(r.status, user?.email ?? "anonymous").toBe(status);
      expect(await r.text()).not.toContain("HYPERLINK");
    }
    session.user = admin;
    expect((await call("no-such-org")).status).toBe(404);
    expect((await call("Bad Slug")).status).toBe(404);
  });

  it("streams 100k rows page by page: one page per read, content complete and in order", async () => {
    const org = await makeOrg(db);
    const N = 100_000;
    await db.execute(sql`
      insert into credit_entries (org_id, kind, amount, balance_after, idempotency_key, description)
      select ${org.id}, 'bonus', 1, g, 'bulk:' || g, case when g % 10000 = 0 then '=cmd|'' /C calc''!A0' else 'Row ' || g end
      from generate_series(1, ${N}) g`);
    await db.execute(sql`update organizations set balance = ${N} where id = ${org.id}`);

    const pageSize = 1000;
    let pagesRead = 0;
    const stream = transactionsCsvStream(db, { orgId: org.id }, { pageSize, onPage: () => pagesRead++ });
    const reader = stream.getReader();
    const decoder = new TextDecoder();
    const first = await reader.read(); // the header
    expect(decoder.decode(first.value)).toBe("entry_id,created_at,type,description,credits,balance_after,purchase_id\r\n");
    // Nothing beyond one page ahead has been read from the database.
    expect(pagesRead).toBeLessThanOrEqual(1);
    const second = await reader.read();
    expect(pagesRead).toBeLessThanOrEqual(2);

    let text = decoder.decode(second.value);
    let chunks = 1;
    let maxChunk = second.value!.byteLength;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks++;
      maxChunk = Math.max(maxChunk, value.byteLength);
      // While reading, the stream never ran more than one page ahead of what was consumed.
      expect(pagesRead).toBeLessThanOrEqual(chunks + 1);
      text += decoder.decode(value, { stream: true });
    }
    expect(chunks).toBe(N / pageSize);
    expect(pagesRead).toBe(N / pageSize + 1); // the last, empty page ends the stream
    expect(maxChunk).toBeLessThan(pageSize * 200); // one page of rows per chunk, never the whole file
    const rows = parseCsv(text);
    expect(rows).toHaveLength(N);
    expect(rows[0]![5]).toBe(String(N)); // newest first
    expect(rows[N - 1]![5]).toBe("1");
    expect(rows.filter((r) => r[3]!.startsWith("'=cmd"))).toHaveLength(10);
    expect(rows.every((r) => !r[3]!.startsWith("="))).toBe(true);
  });
});
