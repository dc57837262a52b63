// Every /staff page: staff only (404 for everyone else), with the console's navigation. Each page
// checks again (requireStaffPage), because a layout does not guard a page's own data loading.
import { requireStaffPage } from "@/lib/auth/staff-page";
import { StaffNav } from "@/components/staff/staff-nav";
import { SignOutButton } from "@/components/user-menu";

export const dynamic = "force-dynamic";

export default async function StaffLayout({ children }: { children: React.ReactNode }) {
  await requireStaffPage();
  return (
    <main className="mx-auto max-w-6xl px-4 py-8">
      <div className="mb-4 flex items-center justify-between">
        <span className="text-sm font-semibold text-slate-500">Creditloop staff console</span>
        <SignOutButton />
      </div>
      <StaffNav />
      {children}
    </main>
  );
}
