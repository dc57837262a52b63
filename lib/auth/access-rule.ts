// What a user may do in an organisation, as a pure rule (the membership query in access.ts
// applies it). Roles rank member < admin; platform staff may read every organisation but acts
// only through memberships of its own. Refusals of people with no business in the organisation
// are `not_found`, so other organisations cannot be probed; a member asking for an admin's
// power is `forbidden` (they know the organisation exists).
import { roleAtLeast, type OrgRole } from "./roles";

export type AccessNeed = "read" | OrgRole | "staff";
export type AccessDecision = "allow" | "not_found" | "forbidden";

export function decideAccess(p: { role: OrgRole | null; isStaff: boolean; required: AccessNeed }): AccessDecision {
  switch (p.required) {
    case "staff":
      return p.isStaff ? "allow" : "not_found";
    case "read":
      return p.role !== null || p.isStaff ? "allow" : "not_found";
    default:
      if (p.role === null) return "not_found";
      return roleAtLeast(p.role, p.required) ? "allow" : "forbidden";
  }
}
