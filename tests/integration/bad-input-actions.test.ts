// Every server action (found in the code, like the access matrix) with hostile input in every
// field: negative, zero, fractional, huge and non-numeric numbers, wrong types, unknown ids, and
// HTML and SQL strings. Each call, made by an admin of the organisation (the strongest caller),
// must come back refused with a clear error that does not echo the input (so nothing hostile can
// be rendered as markup), and must write nothing — except that a well-formed but unknown coupon
// code is recorded by the guess throttle, as intended.
import { describe, expect, it, vi } from "vitest";
import type { SessionUser } from "@/lib/auth/access";
import { ACTION_TABLE, makeWorld } from "../support/action-table";
import { useTestDatabase } from "../support/context";
import { changedTables, dbFingerprint } from "../support/db-fingerprint";
import { discoverEndpoints } from "../support/endpoints";

const session = vi.hoisted(() => ({ user: null as SessionUser | null }));
vi.mock("@/lib/auth/session", () => ({
  currentUser: async () => session.user,
  requireUser: async () => session.user,
}));

const { db } = useTestDatabase();
const { actions } = await discoverEndpoints();

const HTML = ["<script>alert(1)</script>", "<img src=x onerror=alert(1)>", '"><svg onload=alert(1)>'];
const SQL = ["' OR '1'='1", "'; DROP TABLE purchases; --", "1; SELECT pg_sleep(1)"];
const NUMBERS = [-1, 0, 1.5, -0.01, 1e308, Number.MAX_SAFE_INTEGER + 2, Number.NaN, Number.POSITIVE_INFINITY];
const NON_NUMERIC = ["abc", "NaN", "12abc", "１２", "0x1F", "1e3", " "];
const WRONG_TYPES = [null, true, {}, [], ["a"], { $gt: "" }];
// "ab\ud800c": a lone surrogate, not well-formed Unicode (stored as UTF-8 it would become U+FFFD).
const STRINGS = ["", "x".repeat(10_000), "\u0000", "../../etc/passwd", "%00", "ab\ud800c"];
const UNKNOWN_UUID = "00000000-0000-4000-8000-000000000000";
const BAD_VALUES: unknown[] = [...HTML, ...SQL, ...NUMBERS, ...NON_NUMERIC, ...WRONG_TYPES, ...STRINGS, UNKNOWN_UUID];

/** Values that are legitimately accepted for a field: an absent coupon is "no coupon". */
const ACCEPTED: Record<string, (v: unknown) => boolean> = {
  couponCode: (v) => v === null || (typeof v === "string" && v.trim() === ""),
  // A request id is made by the browser; any fresh uuid is a new checkout or staff request.
  requestId: (v) => v === UNKNOWN_UUID,
  // Free text (staff reasons, coupon descriptions) is stored as text and rendered escaped: HTML and
  // SQL-looking text within the length limits is accepted, control characters and lone surrogates are not.
  reason: (v) => typeof v === "string" && v.trim().length >= 3 && v.length <= 500 && !/[\u0000-\u001f]/.test(v) && !/\p{Cs}/u.test(v),
  description: (v) => typeof v === "string" && v.trim().length <= 200 && !/[\u0000-\u001f]/.test(v) && !/\p{Cs}/u.test(v),
  // Any 3–40 letters, digits, - or _ is a well-formed coupon code ("NaN", "1e3", a uuid…).
  code: (v) => typeof v === "string" && /^[A-Za-z0-9_-]{3,40}$/.test(v.trim()),
  // A refund amount left blank means the rest of the payment.
  amount: (v) => v === "",
  // A low-balance threshold of null turns the warning off.
  threshold: (v) => v === null,
  // Auto-recharge on or off.
  enabled: (v) => typeof v === "boolean",
  // Save the top-up's card for auto-recharge, or not (an admin calls it here).
  saveCard: (v) => typeof v === "boolean",
  // An API key's name is free text within a plain character set (letters and digits of any script).
  name: (v) => typeof v === "string" && v.trim().length >= 1 && v.trim().length <= 60 && /^[\p{L}\p{N} ._\-()/]+$/u.test(v.trim()),
};

/** Codes a refusal may carry. A well-formed unknown coupon is coupon_invalid, an unknown id not_found. */
// After five unknown coupon codes the guess throttle answers rate_limited, which is clear too.
const CLEAR_CODES = new Set(["invalid_input", "not_found", "coupon_invalid", "rate_limited", "forbidden"]);

function echoes(text: string, value: unknown): boolean {
  if (/[<>]/.test(text)) return true;
  return typeof value === "string" && value.trim().length >= 8 && text.includes(value.trim());
}

describe("bad input to every server action", () => {
  it("the table covers every action found in the code", () => {
    expect([...actions.keys()].sort()).toEqual(Object.keys(ACTION_TABLE).sort());
  });

  it.each(Object.keys(ACTION_TABLE))("%s: every field × every hostile value is refused clearly and writes nothing", async (name) => {
    const action = actions.get(name)!;
    const row = ACTION_TABLE[name]!;
    const w = await makeWorld(db);
    const prepared = row.prepare ? await row.prepare(w) : {};
    const valid = row.input(w, prepared);
    session.user = w.users[row.badInputActor ?? "admin"];
    const problems: string[] = [];

    const inputs: [string, unknown, unknown][] = [
      // The whole input not being an object at all.
      ...([null, undefined, "string", 42, [], [valid]] as unknown[]).map((v) => ["(input)", v, v] as [string, unknown, unknown]),
      ...Object.keys(valid).flatMap((field) =>
        BAD_VALUES.filter((v) => !ACCEPTED[field]?.(v)).map((v) => [field, v, { ...valid, [field]: v }] as [string, unknown, unknown]),
      ),
      // Missing fields.
      ...Object.keys(valid).map((field) => {
        const { [field]: _dropped, ...rest } = valid;
        return [`${field} (missing)`, undefined, rest] as [string, unknown, unknown];
      // Optional fields: no coupon; saveCard absent is "do not save the card".
      }).filter(([label]) => !label.startsWith("couponCode") && !label.startsWith("saveCard")),
    ];

    for (const [field, value, input] of inputs) {
      const before = await dbFingerprint(db);
      const result = (await action.fn(input)) as { ok: boolean; code?: string; error?: string; fieldErrors?: Record<string, string[]> };
      const label = `${field} = ${JSON.stringify(value)?.slice(0, 40)}`;
      if (result.ok) {
        problems.push(`${label}: accepted`);
        continue;
      }
      if (!CLEAR_CODES.has(result.code!)) problems.push(`${label}: code ${result.code} (${result.error})`);
      if (!result.error || result.error.length < 5) problems.push(`${label}: no message`);
      const shown = [result.error ?? "", ...Object.values(result.fieldErrors ?? {}).flat()].join(" | ");
      if (echoes(shown, value)) problems.push(`${label}: the message echoes the input: ${shown}`);
      // A well-formed unknown coupon code is a counted guess; nothing else may write.
      const allowed = result.code === "coupon_invalid" && field === "couponCode" ? ["public.coupon_attempts"] : [];
      const changed = changedTables(before, await dbFingerprint(db)).filter((t) => !allowed.includes(t));
      if (changed.length) problems.push(`${label}: wrote ${changed.join(", ")}`);
    }
    session.user = null;
    expect(problems).toEqual([]);
    expect(inputs.length).toBeGreaterThan(30 * Object.keys(valid).length);
  });
});
