import type { Metadata } from "next";
import { getDb } from "@/db/client";
import { orgPageAccess } from "@/lib/auth/org-page";
import { listApiKeys } from "@/lib/api-keys/service";
import { ApiKeysPanel } from "@/components/settings/api-keys-panel";
import { Card } from "@/components/ui";

export const metadata: Metadata = { title: "API keys" };

export default async function ApiKeysPage({ params }: { params: Promise<{ slug: string }> }) {
  const { slug } = await params;
  const { org, role } = await orgPageAccess(slug);
  if (role !== "admin") {
    return <Card><p className="text-sm text-slate-600">Only organisation admins manage API keys.</p></Card>;
  }
  const keys = await listApiKeys(getDb(), org.id);
  return (
    <Card>
      <h2 className="font-semibold">API keys</h2>
      <p className="mb-4 mt-1 text-sm text-slate-600">
        The delivery platform records deliveries with <code className="font-mono text-xs">POST /api/v1/campaigns/&#123;id&#125;/deliveries</code> and one of these keys
        (<code className="font-mono text-xs">Authorization: Bearer …</code>). Each delivery spends the campaign&apos;s cost in credits.
      </p>
      <ApiKeysPanel
        slug={slug}
        keys={keys.map((k) => ({ id: k.id, name: k.name, prefix: k.prefix, createdAt: k.createdAt.toISOString(), revokedAt: k.revokedAt?.toISOString() ?? null, lastUsedAt: k.lastUsedAt?.toISOString() ?? null }))}
      />
    </Card>
  );
}
