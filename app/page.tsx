import { redirect } from "next/navigation";
import { getDb } from "@/db/client";
import { listUserOrgs } from "@/lib/auth/access";
import { currentUser } from "@/lib/auth/session";
import { SignOutButton } from "@/components/user-menu";

export const dynamic = "force-dynamic";

export default async function Home() {
  const user = await currentUser();
  if (!user) redirect("/signin");
  const orgs = await listUserOrgs(getDb(), user.id);
  if (orgs[0]) redirect(`/orgs/${orgs[0].slug}/billing`);
  if (user.isStaff) redirect("/staff");
  return (
    <main className="mx-auto max-w-md px-4 py-24 text-center">
      <h1 className="text-2xl font-semibold">No organisation yet</h1>
      <p className="mt-2 text-slate-600">
        You&apos;re signed in as {user.email}, but you aren&apos;t a member of any organisation. Ask an admin to invite you.
      </p>
      <div className="mt-6">
        <SignOutButton />
      </div>
    </main>
  );
}
