"use client";
// The pages' "try again" state. A page that cannot load — most often because the database is
// briefly unavailable or too slow (every wait on it is bounded, db/client.ts) — lands here.
// "Try again" refetches the server components (router.refresh) and re-renders the segment, so
// it works once the database is back; the digest lets support find the server's log line.
import { useRouter } from "next/navigation";
import { useTransition } from "react";

export default function ErrorPage({ error, reset }: { error: Error & { digest?: string }; reset: () => void }) {
  const router = useRouter();
  const [pending, startTransition] = useTransition();
  return (
    <main className="mx-auto max-w-md px-4 py-24 text-center" role="alert">
      <h1 className="text-2xl font-semibold">Something went wrong</h1>
      <p className="mt-2 text-slate-600">
        We couldn&apos;t load this page just now — our database may be briefly unavailable. Please try again in a moment.
      </p>
      <button
        onClick={() =>
          startTransition(() => {
            router.refresh();
            reset();
          })
        }
        disabled={pending}
        className="mt-6 rounded-lg bg-indigo-600 px-4 py-2 text-sm font-medium text-white hover:bg-indigo-500 disabled:opacity-60"
      >
        {pending ? "Trying again…" : "Try again"}
      </button>
      {error.digest ? <p className="mt-4 text-xs text-slate-400">Reference: {error.digest}</p> : null}
    </main>
  );
}
