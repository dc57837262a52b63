// The strip that labels a demo deployment (dev, preview) on every page, so a preview is never
// mistaken for the real service. Production renders nothing. The deployment is decided on the
// server (lib/deployment.ts) and passed in.
import type { Deployment } from "@/lib/deployment";

const TEXT: Record<Exclude<Deployment, "production">, { title: string; detail: string }> = {
  dev: { title: "Development", detail: "demo accounts and test cards; nothing here is real money." },
  preview: { title: "Demo preview", detail: "demo accounts, test cards and a local Stripe emulator; not a production deployment, nothing here is real money." },
};

export function DemoBanner({ deployment }: { deployment: Deployment }) {
  if (deployment === "production") return null;
  const { title, detail } = TEXT[deployment];
  return (
    <div data-testid="demo-banner" role="note" className="bg-amber-300 px-4 py-1.5 text-center text-sm text-amber-950">
      <strong className="font-semibold">{title}</strong> — {detail}
    </div>
  );
}
