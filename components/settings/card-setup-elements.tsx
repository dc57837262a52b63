"use client";
// Saving a card for auto-recharge with Stripe Elements (real Stripe): the server starts an
// attempt and its SetupIntent (startCardSetupAction), Stripe.js confirms it through the shared
// Elements form (confirmSetup, redirect if_required; a card needing 3-D Secure authenticates in
// Stripe's own dialog, a redirect comes back to the settings page with ?setup_intent=…), and the
// server verifies the SetupIntent with Stripe and records the card (verifyCardSetupAction) — the
// same idempotent step the setup_intent.* webhooks run, whichever comes first.
// A decline keeps the same SetupIntent (another card may be tried on it); an unknown outcome is
// verified on the server, never guessed; while Stripe is still settling it polls, and says so.
import { useCallback, useEffect, useRef, useState } from "react";
import { usePathname, useRouter } from "next/navigation";
import { startCardSetupAction, verifyCardSetupAction } from "@/lib/actions/delivery-actions";
import { Spinner } from "../ui";
import { ElementsConfirm } from "../stripe/elements-confirm";

type Started = { setupIntentId: string; clientSecret: string };
type Msg = { ok: boolean; text: string };

const POLL_GIVE_UP_MS = 60_000;

export function ElementsCardSetup({
  slug,
  publishableKey,
  hasCard,
  returnedSetupIntentId,
}: {
  slug: string;
  publishableKey: string;
  hasCard: boolean;
  /** The SetupIntent Stripe sent the admin back with after a redirect (return_url). */
  returnedSetupIntentId: string | null;
}) {
  const router = useRouter();
  const pathname = usePathname();
  const [started, setStarted] = useState<Started | null>(null);
  const [phase, setPhase] = useState<"idle" | "starting" | "form" | "verifying">(returnedSetupIntentId ? "verifying" : "idle");
  const [msg, setMsg] = useState<Msg | null>(null);
  const [formKey, setFormKey] = useState(0);
  const requestId = useRef<string>(crypto.randomUUID());
  const verifying = useRef(false);

  const verify = useCallback(
    async (setupIntentId: string) => {
      if (verifying.current) return;
      verifying.current = true;
      setPhase("verifying");
      setMsg(null);
      const began = Date.now();
      try {
        for (let delay = 800; ; delay = Math.min(delay * 1.5, 3000)) {
          let r: Awaited<ReturnType<typeof verifyCardSetupAction>> | null = null;
          try {
            r = await verifyCardSetupAction({ orgSlug: slug, setupIntentId });
          } catch {
            r = null; // the server could not be reached: try again
          }
          if (r && !r.ok && r.code !== "internal" && r.code !== "payment_provider_unavailable") {
            setMsg({ ok: false, text: r.error });
            setPhase(started ? "form" : "idle");
            return;
          }
          if (r?.ok) {
            const d = r.data;
            if (d.status === "saved" || d.status === "superseded") {
              setMsg(
                d.status === "saved"
                  ? { ok: true, text: `Card saved (${d.cardBrand ?? "card"} •••• ${d.cardLast4 ?? ""}).` }
                  : { ok: false, text: "A newer card was saved in the meantime, so this one was not used." },
              );
              // This attempt is over either way: the next one starts afresh.
              setStarted(null);
              requestId.current = crypto.randomUUID();
              setPhase("idle");
              router.refresh();
              return;
            }
            if (d.status === "failed") {
              setMsg({ ok: false, text: `${d.message ?? "The card could not be saved."} Nothing was saved; try another card.` });
              setFormKey((k) => k + 1);
              setPhase(started ? "form" : "idle");
              return;
            }
            if (d.status === "canceled" || d.status === "not_ours") {
              setMsg({ ok: false, text: "This card form is no longer valid. Start again to save a card." });
              setStarted(null);
              requestId.current = crypto.randomUUID();
              setPhase("idle");
              return;
            }
            // pending / requires_action: Stripe has not settled it yet.
          }
          if (Date.now() - began > POLL_GIVE_UP_MS) {
            setMsg({ ok: false, text: "Stripe has not confirmed the card yet. Reload this page in a minute to see whether it was saved." });
            setPhase(started ? "form" : "idle");
            return;
          }
          setMsg({ ok: true, text: r ? "Waiting for Stripe to confirm the card…" : "We couldn't check with Stripe just now — still trying." });
          await new Promise((res) => setTimeout(res, delay));
        }
      } finally {
        verifying.current = false;
      }
    },
    [slug, router, started],
  );

  // Back from a redirect (return_url): verify that SetupIntent, then drop the query string.
  useEffect(() => {
    if (!returnedSetupIntentId) return;
    void verify(returnedSetupIntentId).then(() => router.replace(pathname));
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [returnedSetupIntentId]);

  async function begin() {
    setPhase("starting");
    setMsg(null);
    try {
      const r = await startCardSetupAction({ orgSlug: slug, requestId: requestId.current });
      if (!r.ok) {
        setMsg({ ok: false, text: r.error });
        if (r.code === "conflict") requestId.current = crypto.randomUUID();
        setPhase("idle");
        return;
      }
      setStarted(r.data);
      setPhase("form");
    } catch {
      setMsg({ ok: false, text: "We couldn't open the card form. Nothing was saved; please try again." });
      setPhase("idle");
    }
  }

  const returnUrl = typeof window === "undefined" ? "" : new URL(pathname, window.location.origin).toString();

  return (
    <div className="mt-2 space-y-3" data-testid="card-setup-elements">
      {phase === "idle" && (
        <button type="button" onClick={() => void begin()} data-testid="add-card" className="inline-flex items-center gap-2 rounded-lg border border-slate-300 bg-white px-3 py-1.5 text-sm font-medium hover:bg-slate-50">
          {hasCard ? "Replace card" : "Add a card"}
        </button>
      )}
      {phase === "starting" && (
        <p className="flex items-center gap-2 text-sm text-slate-600">
          <Spinner /> Opening the card form…
        </p>
      )}
      {phase === "form" && started && (
        <ElementsConfirm
          key={`${started.clientSecret}:${formKey}`}
          publishableKey={publishableKey}
          clientSecret={started.clientSecret}
          confirm={(stripe, elements) => stripe.confirmSetup({ elements, redirect: "if_required", confirmParams: { return_url: returnUrl } })}
          submitLabel="Save card"
          pendingLabel="Saving…"
          onDone={() => void verify(started.setupIntentId)}
          onFailed={(message) => {
            setMsg({ ok: false, text: `${message} Nothing was saved; try another card.` });
            setFormKey((k) => k + 1);
          }}
          onUnknown={() => void verify(started.setupIntentId)}
          onCancel={() => {
            setPhase("idle");
            setMsg(null);
          }}
        />
      )}
      {phase === "verifying" && (
        <p role="status" className="flex items-center gap-2 text-sm text-slate-600">
          <Spinner /> {msg?.text ?? "Checking the card with Stripe…"}
        </p>
      )}
      {phase !== "verifying" && msg && (
        <p role={msg.ok ? "status" : "alert"} data-testid="card-setup-message" className={`text-sm ${msg.ok ? "text-emerald-700" : "text-red-700"}`}>
          {msg.text}
        </p>
      )}
    </div>
  );
}
