// Who may touch which organisation. Decided from the signed-in user and the database, never
// from ids in the request alone: this file loads the membership, the pure rule in
// access-rule.ts decides. Members and admins act on their own organisations; platform staff may
// read any organisation but only act through memberships of their own.
import { and, eq } from "drizzle-orm";
import type { DbOrTx } from "@/db/client";
import { memberships, organizations, users, type Organization } from "@/db/schema";
import { AppError } from "../errors";
import type { OrgRole } from "./roles";
import { decideAccess, type AccessNeed } from "./access-rule";

export type SessionUser = { id: string; email: string; name: string; isStaff: boolean };

export type OrgAccess = { org: Organization; role: OrgRole | null; user: SessionUser };

export async function loadSessionUser(db: DbOrTx, userId: string): Promise<SessionUser | null> {
  const [u] = await db
    .select({ id: users.id, email: users.email, name: users.name, isStaff: users.isStaff })
    .from(users)
    .where(eq(users.id, userId));
  return u ?? null;
}

/**
 * Resolves the organisation (by slug or id) for this user. Not found and not allowed look the
 * same from outside, so ids of other organisations cannot be probed.
 */
export async function requireOrgAccess(
  db: DbOrTx,
  user: SessionUser,
  org: { slug: string } | { id: string },
  needed: AccessNeed,
): Promise<OrgAccess> {
  const [row] = await db
    .select({ org: organizations, role: memberships.role })
    .from(organizations)
    .leftJoin(memberships, and(eq(memberships.orgId, organizations.id), eq(memberships.userId, user.id)))
    .where("slug" in org ? eq(organizations.slug, org.slug) : eq(organizations.id, org.id));
  if (!row) throw new AppError("not_found", "Organisation not found.");
  const role = row.role ?? null;
  const decision = decideAccess({ role, isStaff: user.isStaff, required: needed });
  if (decision === "forbidden") throw new AppError("forbidden", "Only organisation admins can do that.");
  if (decision === "not_found") throw new AppError("not_found", "Organisation not found.");
  return { org: row.org, role, user };
}

export async function listUserOrgs(db: DbOrTx, userId: string) {
  return db
    .select({ id: organizations.id, slug: organizations.slug, name: organizations.name, role: memberships.role })
    .from(memberships)
    .innerJoin(organizations, eq(organizations.id, memberships.orgId))
    .where(eq(memberships.userId, userId))
    .orderBy(organizations.name);
}
