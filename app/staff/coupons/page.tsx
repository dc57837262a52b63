import type { Metadata } from "next";
import Link from "next/link";
import { z } from "zod";
import { getDb } from "@/db/client";
import { requireStaffPage } from "@/lib/auth/staff-page";
import { listCouponsWithUse, listRedemptions } from "@/lib/coupons/admin";
import { formatMoney } from "@/lib/money/money";
import { createCouponAction, deactivateCouponAction } from "@/lib/actions/staff-actions";
import { formatDateTime } from "@/components/entry-labels";
import { Badge, Card, PageTitle } from "@/components/ui";
import { Field, inputClass, StaffForm } from "@/components/staff/staff-form";

export const metadata: Metadata = { title: "Coupons · Staff" };

const query = z.object({ coupon: z.string().uuid().optional().catch(undefined) });

export default async function StaffCoupons({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  await requireStaffPage();
  const db = getDb();
  const raw = await searchParams;
  const { coupon: selected } = query.parse({ coupon: typeof raw.coupon === "string" ? raw.coupon : undefined });
  const [list, redemptions] = await Promise.all([listCouponsWithUse(db), selected ? listRedemptions(db, selected) : Promise.resolve(null)]);
  const selectedCoupon = list.find((c) => c.coupon.id === selected)?.coupon;
  return (
    <>
      <PageTitle title="Coupons" subtitle="Create and retire coupons; see who used them." />
      <div className="grid gap-4 lg:grid-cols-[1fr_22rem]">
        <Card>
          <h2 className="mb-2 font-semibold">Catalogue</h2>
          {list.length === 0 ? (
            <p className="text-sm text-slate-500">No coupons yet.</p>
          ) : (
            <ul className="divide-y divide-slate-100" data-testid="coupon-list">
              {list.map(({ coupon: c, redeemed, held }) => (
                <li key={c.id} className="py-2 text-sm">
                  <div className="flex flex-wrap items-center justify-between gap-2">
                    <Link href={`/staff/coupons?coupon=${c.id}`} className="font-mono font-medium text-indigo-600">{c.code}</Link>
                    <span>{c.active ? <Badge tone="green">active</Badge> : <Badge tone="slate">retired</Badge>}</span>
                  </div>
                  <p className="text-xs text-slate-600">
                    {c.percentOff !== null ? `${c.percentOff}% off` : `${formatMoney(c.amountOff!, c.currency!)} off`}
                    {c.maxRedemptions !== null ? ` · cap ${c.maxRedemptions}` : ""}
                    {c.expiresAt ? ` · expires ${formatDateTime(c.expiresAt)}` : ""}
                    {c.firstPurchaseOnly ? " · first purchase only" : ""}
                    {c.oncePerOrg ? " · once per organisation" : ""}
                    {` · ${redeemed} redeemed, ${held} held`}
                  </p>
                  {c.description && <p className="text-xs text-slate-500">{c.description}</p>}
                  {c.active && (
                    <StaffForm action={deactivateCouponAction} submitLabel="Retire" confirmText={`Retire ${c.code}? New checkouts will refuse it.`} className="mt-1">
                      <input type="hidden" name="couponId" value={c.id} />
                    </StaffForm>
                  )}
                </li>
              ))}
            </ul>
          )}
        </Card>
        <Card>
          <h2 className="mb-2 font-semibold">New coupon</h2>
          <StaffForm action={createCouponAction} submitLabel="Create coupon" testId="coupon-form" successText="Created {code}.">
            <Field label="Code"><input name="code" required className={inputClass} /></Field>
            <Field label="Description"><input name="description" className={inputClass} /></Field>
            <Field label="Discount">
              <select name="discountType" aria-label="Discount" className={inputClass} defaultValue="percent">
                <option value="percent">Percent off</option>
                <option value="amount">Amount off</option>
              </select>
            </Field>
            <Field label="Percent off (1–100)"><input name="percentOff" inputMode="numeric" className={inputClass} /></Field>
            <Field label="Amount off (minor units)"><input name="amountOff" inputMode="numeric" className={inputClass} /></Field>
            <Field label="Currency (for amount off)"><input name="currency" placeholder="usd" className={inputClass} /></Field>
            <Field label="Redemption cap (blank: none)"><input name="maxRedemptions" inputMode="numeric" className={inputClass} /></Field>
            <Field label="Expires (blank: never)"><input name="expiresAt" type="datetime-local" className={inputClass} /></Field>
            <label className="flex items-center gap-2 text-sm"><input type="checkbox" name="firstPurchaseOnly" /> First purchase only</label>
            <label className="flex items-center gap-2 text-sm"><input type="checkbox" name="oncePerOrg" /> Once per organisation</label>
          </StaffForm>
        </Card>
      </div>
      {selectedCoupon && redemptions && (
        <Card className="mt-4">
          <h2 className="mb-2 font-semibold">Redemptions of {selectedCoupon.code}</h2>
          {redemptions.length === 0 ? (
            <p className="text-sm text-slate-500">Not used yet.</p>
          ) : (
            <ul className="divide-y divide-slate-100" data-testid="redemption-list">
              {redemptions.map((r) => (
                <li key={r.id} className="flex flex-wrap justify-between gap-2 py-2 text-sm">
                  <Link href={`/staff/orgs/${r.orgSlug}`} className="text-indigo-600">{r.orgName}</Link>
                  <span className="text-xs">
                    {r.status}
                    {r.overRedemption ? ` · over-redemption (${r.overRedemption})` : ""}
                    {r.discount !== null && r.currency ? ` · ${formatMoney(r.discount, r.currency)} off` : ""} · purchase {r.purchaseStatus ?? "?"} · {formatDateTime(r.at)}
                  </span>
                </li>
              ))}
            </ul>
          )}
        </Card>
      )}
    </>
  );
}
