import type { Metadata } from "next";
import { notFound } from "next/navigation";
import { z } from "zod";
import { getDb } from "@/db/client";
import { orgPageAccess } from "@/lib/auth/org-page";
import { AppError } from "@/lib/errors";
import { purchaseStatus } from "@/lib/topups/status";
import { paymentFormConfig } from "@/lib/stripe/payment-form";
import { SettlingStatus } from "@/components/top-up/settling-status";
import { PageTitle } from "@/components/ui";

export const metadata: Metadata = { title: "Payment" };

export default async function PurchasePage({ params }: { params: Promise<{ slug: string; id: string }> }) {
  const { slug, id } = await params;
  const { org } = await orgPageAccess(slug);
  if (!z.string().uuid().safeParse(id).success) notFound();
  let initial;
  try {
    // The first render does not call Stripe; the poller verifies right after it mounts.
    initial = await purchaseStatus(getDb(), { orgId: org.id, purchaseId: id, verify: false });
  } catch (e) {
    if (e instanceof AppError) notFound();
    throw e;
  }
  return (
    <>
      <PageTitle title="Payment" />
      <SettlingStatus slug={slug} initial={initial} testCards={paymentFormConfig().kind === "test-cards"} />
    </>
  );
}
