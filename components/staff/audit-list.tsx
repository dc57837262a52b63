// Audit rows as a list (server component): when, who, what, target, details.
import type { AuditRow } from "@/db/schema";
import { formatDateTime } from "../entry-labels";

export function AuditList({ rows }: { rows: { entry: AuditRow; actorEmail: string | null; orgSlug: string | null }[] }) {
  if (rows.length === 0) return <p className="text-sm text-slate-500">Nothing recorded.</p>;
  return (
    <ul className="divide-y divide-slate-100" data-testid="audit-rows">
      {rows.map(({ entry, actorEmail, orgSlug }) => (
        <li key={entry.id} className="py-2 text-sm">
          <div className="flex flex-wrap justify-between gap-2">
            <span className="font-medium">{entry.action}</span>
            <span className="text-xs text-slate-500">{formatDateTime(entry.at)} · {actorEmail ?? "system"}{orgSlug ? ` · ${orgSlug}` : ""}</span>
          </div>
          <p className="break-all text-xs text-slate-500">{entry.targetType} {entry.targetId}</p>
          <pre className="mt-1 overflow-x-auto whitespace-pre-wrap break-all rounded bg-slate-50 p-2 text-xs">{JSON.stringify(entry.details)}</pre>
        </li>
      ))}
    </ul>
  );
}
