import { redirect } from "next/navigation";
import { getDb } from "@/db/client";
import { listUserOrgs } from "@/lib/auth/access";
import { currentUser } from "@/lib/auth/session";

export const dynamic = "force-dynamic";

export default async function Home() {
  const user = await currentUser();
  if (!user) redirect("/signin");
  const orgs = await listUserOrgs(getDb(), user.id);
  if (orgs[0]) redirect(`/orgs/${orgs[0].slug}/billing`);
  if (user.isStaff) redirect("/staff");
  redirect("/signin?error=no-organisation");
}
