"use client";
// Admins create and revoke the organisation's API keys. A new key is shown once, here, right after
// it is created; the server keeps only its hash.
import { useState } from "react";
import { useRouter } from "next/navigation";
import { createApiKeyAction, revokeApiKeyAction } from "@/lib/actions/delivery-actions";
import { Spinner } from "../ui";

export type ApiKeyRow = { id: string; name: string; prefix: string; createdAt: string; revokedAt: string | null; lastUsedAt: string | null };

const when = (iso: string) => new Date(iso).toLocaleString("en-US", { dateStyle: "medium", timeStyle: "short" });

export function ApiKeysPanel({ slug, keys }: { slug: string; keys: ApiKeyRow[] }) {
  const router = useRouter();
  const [name, setName] = useState("");
  const [busy, setBusy] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [created, setCreated] = useState<{ key: string; name: string } | null>(null);
  const [copied, setCopied] = useState(false);

  async function create(e: React.FormEvent) {
    e.preventDefault();
    setBusy("create");
    setError(null);
    const r = await createApiKeyAction({ orgSlug: slug, name });
    setBusy(null);
    if (!r.ok) return setError(r.fieldErrors?.name?.[0] ?? r.error);
    setCreated({ key: r.data.key, name: r.data.name });
    setCopied(false);
    setName("");
    router.refresh();
  }

  async function revoke(id: string) {
    setBusy(id);
    setError(null);
    const r = await revokeApiKeyAction({ orgSlug: slug, keyId: id });
    setBusy(null);
    if (!r.ok) setError(r.error);
    router.refresh();
  }

  return (
    <div className="space-y-6">
      <form onSubmit={create} className="flex flex-wrap items-end gap-3">
        <label className="min-w-0 flex-1">
          <span className="block text-sm font-medium">New key name</span>
          <input
            value={name}
            onChange={(e) => setName(e.target.value)}
            maxLength={60}
            placeholder="e.g. Delivery platform (production)"
            data-testid="api-key-name"
            className="mt-1 w-full rounded-lg border border-slate-300 px-3 py-2 text-sm"
          />
        </label>
        <button type="submit" disabled={busy !== null} data-testid="create-api-key" className="inline-flex items-center gap-2 rounded-lg bg-indigo-600 px-4 py-2 text-sm font-medium text-white hover:bg-indigo-500 disabled:opacity-60">
          {busy === "create" && <Spinner />} Create key
        </button>
      </form>
      {error && <p role="alert" className="text-sm text-red-700">{error}</p>}
      {created && (
        <div data-testid="new-api-key" role="status" className="rounded-xl border border-emerald-300 bg-emerald-50 p-4">
          <p className="text-sm font-medium text-emerald-900">Key “{created.name}” created. Copy it now: it will not be shown again.</p>
          <div className="mt-2 flex flex-wrap items-center gap-2">
            <code data-testid="new-api-key-value" className="min-w-0 break-all rounded bg-white px-2 py-1 font-mono text-xs">{created.key}</code>
            <button
              type="button"
              onClick={async () => {
                await navigator.clipboard?.writeText(created.key).catch(() => undefined);
                setCopied(true);
              }}
              className="rounded-lg border border-slate-300 bg-white px-3 py-1 text-xs font-medium hover:bg-slate-50"
            >
              {copied ? "Copied" : "Copy"}
            </button>
          </div>
        </div>
      )}
      {keys.length === 0 ? (
        <p className="text-sm text-slate-500">No API keys yet.</p>
      ) : (
        <ul className="divide-y divide-slate-100" data-testid="api-keys">
          {keys.map((k) => (
            <li key={k.id} data-testid="api-key-row" data-revoked={k.revokedAt ? "true" : "false"} className="flex flex-wrap items-center justify-between gap-2 py-3">
              <div className="min-w-0">
                <p className="font-medium">{k.name}</p>
                <p className="text-xs text-slate-500">
                  <code className="font-mono">{k.prefix}…</code> · created {when(k.createdAt)}
                  {k.lastUsedAt ? ` · last used ${when(k.lastUsedAt)}` : " · never used"}
                  {k.revokedAt ? ` · revoked ${when(k.revokedAt)}` : ""}
                </p>
              </div>
              {k.revokedAt ? (
                <span className="text-xs font-medium text-slate-500">Revoked</span>
              ) : (
                <button type="button" onClick={() => revoke(k.id)} disabled={busy !== null} className="inline-flex items-center gap-2 rounded-lg border border-red-300 bg-white px-3 py-1.5 text-sm font-medium text-red-700 hover:bg-red-50 disabled:opacity-60">
                  {busy === k.id && <Spinner />} Revoke
                </button>
              )}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
