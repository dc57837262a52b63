"use client";
// A small form for staff actions: collects its fields into an object, adds a fresh request id
// (idempotency: a double submit carries the same one), calls the server action, shows the
// result or the field errors, and refreshes the page's data on success.
import { useRouter } from "next/navigation";
import { useState, useTransition } from "react";

type Result = { ok: true; data: unknown } | { ok: false; code: string; error: string; fieldErrors?: Record<string, string[]> };

export function StaffForm({
  action,
  children,
  submitLabel,
  confirmText,
  successText,
  testId,
  className = "",
}: {
  action: (input: unknown) => Promise<Result>;
  children: React.ReactNode;
  submitLabel: string;
  confirmText?: string;
  /** Shown on success; {field} is replaced by the result's field (an array by its length). */
  successText?: string;
  testId?: string;
  className?: string;
}) {
  const router = useRouter();
  const [pending, start] = useTransition();
  const [requestId, setRequestId] = useState(() => crypto.randomUUID());
  const [message, setMessage] = useState<{ tone: "ok" | "error"; text: string; fields?: Record<string, string[]> } | null>(null);

  function onSubmit(e: React.FormEvent<HTMLFormElement>) {
    e.preventDefault();
    if (confirmText && !window.confirm(confirmText)) return;
    const form = e.currentTarget;
    const input: Record<string, unknown> = { requestId };
    new FormData(form).forEach((v, k) => {
      input[k] = typeof v === "string" ? v : "";
    });
    start(async () => {
      const r = await action(input);
      if (r.ok) {
        setMessage({ tone: "ok", text: successText ? fill(successText, r.data) : "Done." });
        setRequestId(crypto.randomUUID());
        form.reset();
        router.refresh();
      } else {
        setMessage({ tone: "error", text: r.error, fields: r.fieldErrors });
      }
    });
  }

  return (
    <form onSubmit={onSubmit} className={`space-y-2 ${className}`} data-testid={testId}>
      {children}
      <div className="flex flex-wrap items-center gap-3">
        <button type="submit" disabled={pending} className="rounded-lg bg-indigo-600 px-3 py-1.5 text-sm font-medium text-white hover:bg-indigo-500 disabled:opacity-60">
          {pending ? "Working…" : submitLabel}
        </button>
        {message && (
          <p role={message.tone === "error" ? "alert" : "status"} className={`text-sm ${message.tone === "error" ? "text-red-700" : "text-emerald-700"}`}>
            {message.text}
          </p>
        )}
      </div>
      {message?.fields && (
        <ul className="text-xs text-red-700">
          {Object.entries(message.fields).map(([k, v]) => (
            <li key={k}>
              {k}: {v.join(" ")}
            </li>
          ))}
        </ul>
      )}
    </form>
  );
}

function fill(template: string, data: unknown): string {
  const obj = (data && typeof data === "object" ? data : {}) as Record<string, unknown>;
  return template.replace(/\{(\w+)\}/g, (_, k: string) => {
    const v = obj[k];
    return Array.isArray(v) ? String(v.length) : String(v ?? "");
  });
}

/**
 * A labelled control (the label wraps it). A select inside gets its name from an explicit
 * aria-label at the call site, or its option texts would join its accessible name.
 */
export function Field({ label, children }: { label: string; children: React.ReactNode }) {
  return (
    <label className="block text-sm">
      <span className="block font-medium">{label}</span>
      {children}
    </label>
  );
}

export const inputClass = "mt-1 w-full rounded-lg border border-slate-300 bg-white px-2 py-1.5 text-sm";
