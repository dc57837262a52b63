import type { Metadata } from "next";
import Link from "next/link";
import { z } from "zod";
import { getDb } from "@/db/client";
import { requireStaffPage } from "@/lib/auth/staff-page";
import { searchOrganisations } from "@/lib/staff/orgs";
import { formatCredits } from "@/lib/money/money";
import { Badge, Card, PageTitle } from "@/components/ui";

export const metadata: Metadata = { title: "Organisations · Staff" };

const query = z.object({ q: z.string().max(100).optional().catch(undefined) });

export default async function StaffOrgs({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  await requireStaffPage();
  const raw = await searchParams;
  const { q } = query.parse({ q: typeof raw.q === "string" ? raw.q : undefined });
  const orgs = await searchOrganisations(getDb(), q ?? "");
  return (
    <>
      <PageTitle title="Organisations" subtitle="Search by name or slug." />
      <Card>
        <form method="get" action="/staff/orgs" className="mb-4 flex gap-2">
          <input name="q" defaultValue={q ?? ""} placeholder="Name or slug" aria-label="Search organisations" className="w-full max-w-sm rounded-lg border border-slate-300 px-2 py-1.5 text-sm" />
          <button type="submit" className="rounded-lg border border-slate-300 bg-white px-3 py-1.5 text-sm font-medium hover:bg-slate-50">Search</button>
        </form>
        {orgs.length === 0 ? (
          <p className="text-sm text-slate-500">No organisation matches.</p>
        ) : (
          <ul className="divide-y divide-slate-100" data-testid="org-results">
            {orgs.map((o) => (
              <li key={o.id} className="flex flex-wrap items-center justify-between gap-2 py-2 text-sm">
                <Link href={`/staff/orgs/${o.slug}`} className="font-medium text-indigo-600 hover:text-indigo-500">
                  {o.name} <span className="text-slate-500">({o.slug})</span>
                </Link>
                <span className="tabular-nums">
                  {formatCredits(o.balance)} credits {o.balance < 0 && <Badge tone="red">negative: spending stopped</Badge>}{" "}
                  {o.openDisputes > 0 && <Badge tone="red">open dispute</Badge>}
                </span>
              </li>
            ))}
          </ul>
        )}
      </Card>
    </>
  );
}
