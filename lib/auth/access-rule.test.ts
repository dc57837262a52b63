import { describe, expect, it } from "vitest";
import { decideAccess, type AccessDecision, type AccessNeed } from "./access-rule";
import type { OrgRole } from "./roles";

type Who = { role: OrgRole | null; isStaff: boolean };
const outsider: Who = { role: null, isStaff: false };
const member: Who = { role: "member", isStaff: false };
const admin: Who = { role: "admin", isStaff: false };
const staff: Who = { role: null, isStaff: true };
const staffMember: Who = { role: "member", isStaff: true };
const staffAdmin: Who = { role: "admin", isStaff: true };

// The whole table: every kind of user against every need.
const table: [string, Who, Record<AccessNeed, AccessDecision>][] = [
  ["outsider", outsider, { read: "not_found", member: "not_found", admin: "not_found", staff: "not_found" }],
  ["member", member, { read: "allow", member: "allow", admin: "forbidden", staff: "not_found" }],
  ["admin", admin, { read: "allow", member: "allow", admin: "allow", staff: "not_found" }],
  ["staff without membership", staff, { read: "allow", member: "not_found", admin: "not_found", staff: "allow" }],
  ["staff who is a member", staffMember, { read: "allow", member: "allow", admin: "forbidden", staff: "allow" }],
  ["staff who is an admin", staffAdmin, { read: "allow", member: "allow", admin: "allow", staff: "allow" }],
];

describe("decideAccess", () => {
  for (const [name, who, expected] of table) {
    for (const need of Object.keys(expected) as AccessNeed[]) {
      it(`${name} asking for ${need} → ${expected[need]}`, () => {
        expect(decideAccess({ ...who, required: need })).toBe(expected[need]);
      });
    }
  }

  it("a stronger need is never easier to get than a weaker one", () => {
    const order: AccessNeed[] = ["read", "member", "admin"];
    for (const [, who] of table) {
      const allowed = order.map((n) => decideAccess({ ...who, required: n }) === "allow");
      for (let i = 1; i < allowed.length; i++) if (allowed[i]) expect(allowed[i - 1]).toBe(true);
    }
  });
});
