// Roles inside an organisation. Platform staff is a property of the user, not a membership.
export type OrgRole = "member" | "admin";

const rank: Record<OrgRole, number> = { member: 1, admin: 2 };

export function roleAtLeast(role: OrgRole, needed: OrgRole): boolean {
  return rank[role] >= rank[needed];
}
