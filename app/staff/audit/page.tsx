import type { Metadata } from "next";
import Link from "next/link";
import { eq } from "drizzle-orm";
import { z } from "zod";
import { getDb } from "@/db/client";
import { organizations } from "@/db/schema";
import { requireStaffPage } from "@/lib/auth/staff-page";
import { listAudit } from "@/lib/audit/audit";
import { AuditList } from "@/components/staff/audit-list";
import { Card, PageTitle } from "@/components/ui";
import { inputClass } from "@/components/staff/staff-form";

export const metadata: Metadata = { title: "Audit log · Staff" };

const query = z.object({
  action: z.string().regex(/^[a-z_.-]{1,60}$/).optional().catch(undefined),
  org: z.string().regex(/^[a-z0-9][a-z0-9-]*$/).optional().catch(undefined),
  before: z.coerce.number().int().positive().optional().catch(undefined),
});

export default async function StaffAudit({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  await requireStaffPage();
  const db = getDb();
  const raw = await searchParams;
  const pick = (k: string) => (typeof raw[k] === "string" && raw[k] ? (raw[k] as string) : undefined);
  const f = query.parse({ action: pick("action"), org: pick("org"), before: pick("before") });
  const [org] = f.org ? await db.select({ id: organizations.id }).from(organizations).where(eq(organizations.slug, f.org)) : [];
  const page = f.org && !org ? { rows: [], nextCursor: null } : await listAudit(db, { action: f.action, orgId: org?.id, before: f.before });
  const qs = (extra: Record<string, string>) => new URLSearchParams({ ...(f.action ? { action: f.action } : {}), ...(f.org ? { org: f.org } : {}), ...extra }).toString();
  return (
    <>
      <PageTitle title="Audit log" subtitle="Who did what, when: adjustments, refunds, coupon changes, replays, re-syncs, reconciliation fixes." />
      <Card>
        <form method="get" action="/staff/audit" className="mb-4 flex flex-wrap items-end gap-2 text-sm">
          <label>Action<input name="action" defaultValue={f.action ?? ""} placeholder="credits.bonus" className={inputClass} /></label>
          <label>Organisation (slug)<input name="org" defaultValue={f.org ?? ""} className={inputClass} /></label>
          <button type="submit" className="rounded-lg border border-slate-300 bg-white px-3 py-1.5 font-medium hover:bg-slate-50">Filter</button>
        </form>
        <AuditList rows={page.rows} />
        {page.nextCursor && <Link href={`/staff/audit?${qs({ before: String(page.nextCursor) })}`} className="mt-3 inline-block text-sm text-indigo-600">Older →</Link>}
      </Card>
    </>
  );
}
