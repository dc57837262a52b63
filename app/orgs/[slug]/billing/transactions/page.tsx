import type { Metadata } from "next";
import Link from "next/link";
import { z } from "zod";
import { getDb } from "@/db/client";
import { orgPageAccess } from "@/lib/auth/org-page";
import { ENTRY_KINDS, listEntries } from "@/lib/ledger/queries";
import { LedgerList } from "@/components/ledger-table";
import { ENTRY_KIND_LABELS } from "@/components/entry-labels";
import { Card, PageTitle } from "@/components/ui";

export const metadata: Metadata = { title: "Transactions" };

const query = z.object({
  kind: z.enum(ENTRY_KINDS).optional().catch(undefined),
  before: z.coerce.number().int().positive().optional().catch(undefined),
});

export default async function Transactions({
  params,
  searchParams,
}: {
  params: Promise<{ slug: string }>;
  searchParams: Promise<Record<string, string | string[] | undefined>>;
}) {
  const { slug } = await params;
  const { org, role } = await orgPageAccess(slug);
  const raw = await searchParams;
  const { kind, before } = query.parse({ kind: raw.kind || undefined, before: raw.before || undefined });
  const page = await listEntries(getDb(), { orgId: org.id, kind, before, limit: 25 });
  const base = `/orgs/${slug}/billing/transactions`;
  const withKind = (extra: Record<string, string>) => {
    const p = new URLSearchParams({ ...(kind ? { kind } : {}), ...extra });
    const s = p.toString();
    return s ? `${base}?${s}` : base;
  };
  return (
    <>
      <PageTitle title="Transactions" subtitle="Every change to your credit balance, newest first." />
      <Card>
        <form method="get" action={base} className="mb-4 flex flex-wrap items-end gap-2">
          <label className="text-sm">
            <span className="block font-medium">Type</span>
            <select name="kind" defaultValue={kind ?? ""} className="mt-1 rounded-lg border border-slate-300 bg-white px-2 py-1.5 text-sm">
              <option value="">All types</option>
              {ENTRY_KINDS.map((k) => (
                <option key={k} value={k}>
                  {ENTRY_KIND_LABELS[k]}
                </option>
              ))}
            </select>
          </label>
          <button type="submit" className="rounded-lg border border-slate-300 bg-white px-3 py-1.5 text-sm font-medium hover:bg-slate-50">
            Filter
          </button>
          {kind && (
            <Link href={base} className="px-2 py-1.5 text-sm text-indigo-600 hover:text-indigo-500">
              Clear
            </Link>
          )}
          {role === "admin" && (
            // A download, not a page: a plain link (no client-side navigation).
            <a href={`${base}/export${kind ? `?kind=${kind}` : ""}`} download className="ml-auto px-2 py-1.5 text-sm font-medium text-indigo-600 hover:text-indigo-500" data-testid="export-csv">
              Download CSV
            </a>
          )}
        </form>
        <LedgerList entries={page.entries} />
        <nav aria-label="Pages" className="mt-4 flex justify-between text-sm">
          {before ? (
            <Link href={withKind({})} className="font-medium text-indigo-600 hover:text-indigo-500">← Newest</Link>
          ) : (
            <span />
          )}
          {page.nextCursor ? (
            <Link href={withKind({ before: String(page.nextCursor) })} className="font-medium text-indigo-600 hover:text-indigo-500">Older →</Link>
          ) : (
            <span className="text-slate-400">{page.entries.length > 0 ? "End of history" : ""}</span>
          )}
        </nav>
      </Card>
    </>
  );
}
