"use client";
// The credentials form. Where it goes afterwards is re-checked here (safeRedirectPath), not only
// by the page that passed it.

import { useState } from "react";
import { useRouter } from "next/navigation";
import { signIn } from "next-auth/react";
import { safeRedirectPath } from "@/lib/auth/redirect";
import { SIGN_IN_THROTTLED } from "@/lib/auth/sign-in-throttle";
import { ErrorMessage } from "./ui";

export function SignInForm({ callbackUrl }: { callbackUrl: string }) {
  const router = useRouter();
  const [error, setError] = useState<string | null>(null);
  const [pending, setPending] = useState(false);

  async function onSubmit(e: React.FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const form = new FormData(e.currentTarget);
    setPending(true);
    setError(null);
    try {
      const res = await signIn("credentials", { redirect: false, email: form.get("email"), password: form.get("password") });
      if (!res || res.error) {
        // Never which part was wrong; a lock says only that it is one.
        setError(
          res?.error === SIGN_IN_THROTTLED
            ? "Too many failed sign-in attempts. Wait 15 minutes, then try again."
            : "Wrong email or password.",
        );
        return;
      }
      router.replace(safeRedirectPath(callbackUrl));
      router.refresh();
    } catch {
      setError("We couldn't sign you in right now. Please try again.");
    } finally {
      setPending(false);
    }
  }

  return (
    <form onSubmit={onSubmit} className="mt-6 space-y-4" noValidate>
      <div>
        <label htmlFor="email" className="block text-sm font-medium">Email</label>
        <input id="email" name="email" type="email" autoComplete="email" required className="mt-1 block w-full rounded-lg border border-slate-300 bg-white px-3 py-2 text-base focus:border-indigo-500 focus:outline-none focus:ring-2 focus:ring-indigo-200" />
      </div>
      <div>
        <label htmlFor="password" className="block text-sm font-medium">Password</label>
        <input id="password" name="password" type="password" autoComplete="current-password" required className="mt-1 block w-full rounded-lg border border-slate-300 bg-white px-3 py-2 text-base focus:border-indigo-500 focus:outline-none focus:ring-2 focus:ring-indigo-200" />
      </div>
      <ErrorMessage>{error}</ErrorMessage>
      <button type="submit" disabled={pending} className="w-full rounded-lg bg-indigo-600 px-4 py-2.5 font-medium text-white hover:bg-indigo-500 disabled:cursor-wait disabled:opacity-70">
        {pending ? "Signing in…" : "Sign in"}
      </button>
    </form>
  );
}
