// GET /orgs/<slug>/billing/transactions/export?kind=… — the organisation's ledger as CSV, for its
// admins (members: 403; anyone else, staff included: 404; signed out: 401). Streamed page by page
// (lib/billing/transactions-export.ts), so a million rows never sit in memory.
import { z } from "zod";
import { getDb } from "@/db/client";
import { requireOrgAccess } from "@/lib/auth/access";
import { currentUser } from "@/lib/auth/session";
import { AppError } from "@/lib/errors";
import { ENTRY_KINDS } from "@/lib/ledger/queries";
import { transactionsCsvStream } from "@/lib/billing/transactions-export";

const params = z.object({ slug: z.string().regex(/^[a-z0-9][a-z0-9-]*$/) });
const query = z.object({ kind: z.enum(ENTRY_KINDS).optional() });

export async function GET(request: Request, ctx: { params: Promise<{ slug: string }> }): Promise<Response> {
  const user = await currentUser();
  if (!user) return Response.json({ error: "Sign in to download transactions." }, { status: 401 });
  const p = params.safeParse(await ctx.params);
  if (!p.success) return Response.json({ error: "Organisation not found." }, { status: 404 });
  const url = new URL(request.url);
  const q = query.safeParse({ kind: url.searchParams.get("kind") || undefined });
  if (!q.success) return Response.json({ error: "Unknown transaction type." }, { status: 400 });
  const db = getDb();
  let orgId: string;
  try {
    orgId = (await requireOrgAccess(db, user, { slug: p.data.slug }, "admin")).org.id;
  } catch (e) {
    if (e instanceof AppError) return Response.json({ error: e.message }, { status: e.status });
    throw e;
  }
  const day = new Date().toISOString().slice(0, 10);
  return new Response(transactionsCsvStream(db, { orgId, kind: q.data.kind }), {
    status: 200,
    headers: {
      "content-type": "text/csv; charset=utf-8",
      "content-disposition": `attachment; filename="${p.data.slug}-transactions${q.data.kind ? `-${q.data.kind}` : ""}-${day}.csv"`,
      "cache-control": "no-store",
      "x-content-type-options": "nosniff",
    },
  });
}
