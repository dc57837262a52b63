import type { Metadata } from "next";
import { redirect } from "next/navigation";
import { currentUser } from "@/lib/auth/session";
import { safeRedirectPath } from "@/lib/auth/redirect";
import { DEMO_USERS } from "@/lib/demo/accounts";
import { demoAccessAllowed } from "@/lib/deployment";
import { SignInForm } from "@/components/sign-in-form";

export const metadata: Metadata = { title: "Sign in" };
export const dynamic = "force-dynamic";

export default async function SignInPage({ searchParams }: { searchParams: Promise<{ callbackUrl?: string }> }) {
  if (await currentUser()) redirect("/");
  const { callbackUrl } = await searchParams;
  const safeCallback = safeRedirectPath(callbackUrl);
  return (
    <main className="mx-auto flex min-h-dvh max-w-sm flex-col justify-center px-4 py-12">
      <p className="text-lg font-semibold text-indigo-600">Creditloop</p>
      <h1 className="mt-1 text-2xl font-semibold">Sign in</h1>
      <SignInForm callbackUrl={safeCallback} />
      {/* Demo accounts exist in dev and preview data only; production never shows (or accepts) them. */}
      {demoAccessAllowed(process.env) && (
      <section className="mt-8 rounded-lg border border-slate-200 bg-white p-4 text-sm">
        <h2 className="font-medium">Demo accounts</h2>
        <p className="mt-1 text-slate-600">
          Password for all: <code className="rounded bg-slate-100 px-1">{DEMO_USERS[0]!.password}</code>
        </p>
        <ul className="mt-2 space-y-1">
          {DEMO_USERS.map((u) => (
            <li key={u.email}>
              <code className="break-all">{u.email}</code>
              <span className="block text-xs text-slate-500">{u.label}</span>
            </li>
          ))}
        </ul>
      </section>
      )}
    </main>
  );
}
