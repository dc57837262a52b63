import Link from "next/link";
import { PageTitle } from "@/components/ui";

export default async function SettingsLayout({ children, params }: { children: React.ReactNode; params: Promise<{ slug: string }> }) {
  const { slug } = await params;
  return (
    <>
      <PageTitle title="Settings" subtitle="Balance alerts, auto-recharge and API keys. Organisation admins can change them." />
      <nav aria-label="Settings" className="mb-4 flex gap-4 border-b border-slate-200 text-sm">
        <Link href={`/orgs/${slug}/settings/balance`} className="-mb-px border-b-2 border-transparent px-1 pb-2 font-medium text-slate-700 hover:border-slate-300">Balance &amp; auto-recharge</Link>
        <Link href={`/orgs/${slug}/settings/api-keys`} className="-mb-px border-b-2 border-transparent px-1 pb-2 font-medium text-slate-700 hover:border-slate-300">API keys</Link>
      </nav>
      {children}
    </>
  );
}
