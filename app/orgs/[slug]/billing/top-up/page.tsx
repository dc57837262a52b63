import type { Metadata } from "next";
import { getDb } from "@/db/client";
import { orgPageAccess } from "@/lib/auth/org-page";
import { listActivePacks } from "@/lib/billing/queries";
import { paymentFormConfig } from "@/lib/stripe/payment-form";
import { checkoutModeFor } from "@/lib/checkout/config";
import { TopUpForm } from "@/components/top-up/top-up-form";
import { Card, PageTitle } from "@/components/ui";

export const metadata: Metadata = { title: "Top up" };

export default async function TopUpPage({ params, searchParams }: { params: Promise<{ slug: string }>; searchParams: Promise<{ checkout?: string | string[] }> }) {
  const { slug } = await params;
  // CHECKOUT_MODE; dev/preview deployments also take ?checkout=hosted|embedded (lib/checkout/mode.ts).
  const checkoutMode = checkoutModeFor((await searchParams).checkout);
  const { role } = await orgPageAccess(slug);
  if (role === null) {
    return (
      <>
        <PageTitle title="Top up credits" />
        <Card>
          <p className="text-sm text-slate-600">Only members of this organisation can buy credits for it.</p>
        </Card>
      </>
    );
  }
  const packs = await listActivePacks(getDb());
  return (
    <>
      <PageTitle title="Top up credits" subtitle="Credits are added as soon as the payment settles; paused campaigns resume automatically." />
      <TopUpForm
        slug={slug}
        canApplyCoupons={role === "admin"}
        payment={paymentFormConfig()}
        checkoutMode={checkoutMode}
        packs={packs.map((p) => ({ id: p.id, name: p.name, credits: p.credits, amount: p.amount, currency: p.currency }))}
      />
    </>
  );
}
