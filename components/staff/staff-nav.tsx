// The staff console's navigation (server component).
import Link from "next/link";

const LINKS = [
  ["/staff", "Overview"],
  ["/staff/orgs", "Organisations"],
  ["/staff/coupons", "Coupons"],
  ["/staff/events", "Webhook events"],
  ["/staff/reconciliation", "Reconciliation"],
  ["/staff/audit", "Audit log"],
] as const;

export function StaffNav() {
  return (
    <nav aria-label="Staff" className="mb-6 flex flex-wrap gap-2 text-sm">
      {LINKS.map(([href, label]) => (
        <Link key={href} href={href} className="rounded-lg border border-slate-200 bg-white px-3 py-1.5 font-medium text-slate-700 hover:bg-slate-50">
          {label}
        </Link>
      ))}
    </nav>
  );
}
