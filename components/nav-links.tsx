"use client";

import Link from "next/link";
import { usePathname } from "next/navigation";

export function NavLinks({ slug }: { slug: string }) {
  const pathname = usePathname();
  const links = [
    { href: `/orgs/${slug}/billing`, label: "Billing", exact: true },
    { href: `/orgs/${slug}/billing/transactions`, label: "Transactions" },
    { href: `/orgs/${slug}/billing/top-up`, label: "Top up" },
    { href: `/orgs/${slug}/billing/plan`, label: "Plan" },
    { href: `/orgs/${slug}/campaigns`, label: "Campaigns" },
    { href: `/orgs/${slug}/settings`, label: "Settings" },
  ];
  return (
    <nav aria-label="Main" className="-mx-1 flex gap-1 overflow-x-auto">
      {links.map((l) => {
        const active = l.exact ? pathname === l.href : pathname.startsWith(l.href);
        return (
          <Link
            key={l.href}
            href={l.href}
            aria-current={active ? "page" : undefined}
            className={`whitespace-nowrap rounded-md px-3 py-1.5 text-sm font-medium ${active ? "bg-indigo-50 text-indigo-700" : "text-slate-600 hover:bg-slate-100 hover:text-slate-900"}`}
          >
            {l.label}
          </Link>
        );
      })}
    </nav>
  );
}
