import { ButtonLink } from "./ui";

export function PausedNotice({ slug, count }: { slug: string; count: number }) {
  if (count === 0) return null;
  return (
    <div data-testid="paused-notice" role="status" className="mb-6 flex flex-wrap items-center justify-between gap-3 rounded-xl border border-amber-300 bg-amber-50 p-4">
      <p className="text-sm text-amber-900">
        <strong className="font-semibold">
          {count} campaign{count === 1 ? " is" : "s are"} paused
        </strong>{" "}
        because your balance can&apos;t cover {count === 1 ? "its" : "their"} next delivery. Top up and {count === 1 ? "it resumes" : "they resume"} automatically.
      </p>
      <ButtonLink href={`/orgs/${slug}/billing/top-up`}>Top up credits</ButtonLink>
    </div>
  );
}
