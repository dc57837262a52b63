// For pages under /staff: the signed-in staff member, or a 404 for everyone else (signed out
// included), so the console's pages cannot be told apart from pages that do not exist.
import "server-only";
import { notFound } from "next/navigation";
import { currentUser } from "./session";
import type { SessionUser } from "./access";

export async function requireStaffPage(): Promise<SessionUser> {
  const user = await currentUser();
  if (!user?.isStaff) notFound();
  return user;
}
