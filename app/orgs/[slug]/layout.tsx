import Link from "next/link";
import { getDb } from "@/db/client";
import { listUserOrgs } from "@/lib/auth/access";
import { orgPageAccess } from "@/lib/auth/org-page";
import { orgBalance } from "@/lib/billing/queries";
import { depletionForecast, getBalanceSettings } from "@/lib/balance-care/queries";
import { LowBalanceBanner } from "@/components/low-balance-banner";
import { formatCredits } from "@/lib/money/money";
import { NavLinks } from "@/components/nav-links";
import { OrgSwitcher, SignOutButton } from "@/components/user-menu";

export const dynamic = "force-dynamic";

export default async function OrgLayout({ children, params }: { children: React.ReactNode; params: Promise<{ slug: string }> }) {
  const { slug } = await params;
  const access = await orgPageAccess(slug);
  const db = getDb();
  const [balance, orgs, settings] = await Promise.all([orgBalance(db, access.org.id), listUserOrgs(db, access.user.id), getBalanceSettings(db, access.org.id)]);
  const threshold = settings?.lowBalanceThreshold ?? null;
  const forecastDays = threshold !== null && balance < threshold ? await depletionForecast(db, access.org.id, balance) : null;
  return (
    <div className="min-h-dvh">
      <header className="border-b border-slate-200 bg-white">
        <div className="mx-auto max-w-5xl px-4 py-3">
          <div className="flex flex-wrap items-center justify-between gap-x-4 gap-y-2">
            <div className="flex min-w-0 items-center gap-3">
              <Link href="/" className="font-semibold text-indigo-600">Creditloop</Link>
              <span className="truncate text-sm font-medium text-slate-800">{access.org.name}</span>
              {access.role === null && <span className="rounded bg-amber-100 px-1.5 py-0.5 text-xs text-amber-800">staff view</span>}
            </div>
            <div className="flex items-center gap-3">
              <span className="rounded-full bg-slate-100 px-3 py-1 text-sm tabular-nums" title="Current balance">
                <span data-testid="header-balance" className="font-semibold">{formatCredits(balance)}</span> credits
              </span>
              <OrgSwitcher current={slug} orgs={orgs} />
              {access.user.isStaff && (
                <Link href="/staff" className="text-sm text-slate-600 hover:text-slate-900">Staff</Link>
              )}
              <span className="hidden text-sm text-slate-500 md:inline">{access.user.name}</span>
              <SignOutButton />
            </div>
          </div>
          <div className="mt-2">
            <NavLinks slug={slug} />
          </div>
        </div>
      </header>
      <LowBalanceBanner slug={slug} balance={balance} threshold={threshold} forecastDays={forecastDays} canTopUp={access.role !== null} />
      <main className="mx-auto max-w-5xl px-4 py-6 sm:py-8">{children}</main>
    </div>
  );
}
