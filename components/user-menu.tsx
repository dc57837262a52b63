"use client";

import { useState } from "react";
import { useRouter } from "next/navigation";
import { signOut } from "next-auth/react";

export function SignOutButton() {
  const [pending, setPending] = useState(false);
  return (
    <button
      type="button"
      disabled={pending}
      onClick={() => {
        setPending(true);
        void signOut({ callbackUrl: "/signin" });
      }}
      className="rounded-md px-2 py-1 text-sm text-slate-600 hover:bg-slate-100 hover:text-slate-900 disabled:opacity-60"
    >
      {pending ? "Signing out…" : "Sign out"}
    </button>
  );
}

export function OrgSwitcher({ current, orgs }: { current: string; orgs: { slug: string; name: string }[] }) {
  const router = useRouter();
  if (orgs.length < 2) return null;
  return (
    <label className="text-sm">
      <span className="sr-only">Organisation</span>
      <select
        value={current}
        onChange={(e) => router.push(`/orgs/${e.target.value}/billing`)}
        className="rounded-md border border-slate-300 bg-white px-2 py-1 text-sm"
      >
        {orgs.map((o) => (
          <option key={o.slug} value={o.slug}>
            {o.name}
          </option>
        ))}
      </select>
    </label>
  );
}
