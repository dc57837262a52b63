import type { Metadata } from "next";
import { getDb } from "@/db/client";
import { orgPageAccess } from "@/lib/auth/org-page";
import { listActivePacks } from "@/lib/billing/queries";
import { getBalanceSettings, latestCardSetupFailure } from "@/lib/balance-care/queries";
import { paymentFormConfig } from "@/lib/stripe/payment-form";
import { formatCredits, formatMoney } from "@/lib/money/money";
import { AutoRechargeForm, LowBalanceForm } from "@/components/settings/balance-settings-forms";
import { Card } from "@/components/ui";

export const metadata: Metadata = { title: "Balance settings" };

export default async function BalanceSettingsPage({
  params,
  searchParams,
}: {
  params: Promise<{ slug: string }>;
  searchParams: Promise<{ setup_intent?: string | string[] }>;
}) {
  const { slug } = await params;
  // Stripe's return_url after a redirect while saving a card: the form verifies it on the server.
  const returned = (await searchParams).setup_intent;
  const returnedSetupIntentId = typeof returned === "string" && /^seti_[A-Za-z0-9]{1,100}$/.test(returned) ? returned : null;
  const { org, role } = await orgPageAccess(slug);
  if (role !== "admin") {
    return <Card><p className="text-sm text-slate-600">Only organisation admins change the low-balance warning and auto-recharge.</p></Card>;
  }
  const db = getDb();
  const [s, packs] = await Promise.all([getBalanceSettings(db, org.id), listActivePacks(db)]);
  const lastSetupFailure = await latestCardSetupFailure(db, org.id, s?.cardSetupId ?? null);
  return (
    <div className="space-y-4">
      <Card>
        <h2 className="font-semibold">Low-balance warning</h2>
        <p className="mb-4 mt-1 text-sm text-slate-600">When the balance falls below this (a delivery, an expiry, a refund or a correction), everyone in the organisation sees a warning and a notice is recorded — once each time it falls below.</p>
        <LowBalanceForm slug={slug} threshold={s?.lowBalanceThreshold ?? null} />
      </Card>
      <Card>
        <h2 className="font-semibold">Auto-recharge</h2>
        <p className="mb-4 mt-1 text-sm text-slate-600">
          When a delivery, an expiry or a correction takes the balance below the threshold, the chosen pack is bought with the saved card, once per fall (refunds and disputes only warn). If the card is declined, auto-recharge turns off and admins are told why.
        </p>
        <AutoRechargeForm
          slug={slug}
          packs={packs.map((p) => ({ id: p.id, label: `${p.name}: ${formatCredits(p.credits)} credits for ${formatMoney(p.amount, p.currency)}` }))}
          state={{
            enabled: s?.autoRechargeEnabled ?? false,
            threshold: s?.autoRechargeThreshold ?? null,
            packId: s?.autoRechargePackId ?? null,
            card: s?.paymentMethodId ? { brand: s.cardBrand, last4: s.cardLast4 } : null,
            disabledReason: s?.autoRechargeDisabledReason ?? null,
            lastSetupFailure,
          }}
          payment={paymentFormConfig()}
          returnedSetupIntentId={returnedSetupIntentId}
        />
      </Card>
    </div>
  );
}
