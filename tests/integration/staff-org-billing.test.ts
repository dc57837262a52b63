// The staff organisation page's billing: the plan (status, interval, current period, cancel at
// period end, scheduled change, grace end) from the mirror and the last invoices from Stripe
// (bounded, amounts formatted, hosted links); a Stripe outage shows as "could not load".
import { beforeEach, describe, expect, it, vi } from "vitest";
import { eq } from "drizzle-orm";
import type { SessionUser } from "@/lib/auth/access";
import { subscriptions } from "@/db/schema";
import { runOrgAction } from "@/lib/actions/org-action";
import { organisationBilling } from "@/lib/staff/orgs";
import { changePlanDef } from "@/lib/subscriptions/actions";
import { useTestDatabase } from "../support/context";
import { clearFaults, injectFault } from "../support/emulator";
import { makeUser } from "../support/fixtures";
import { advanceTo, clockOrg, subscribePaid, syncPlans } from "../support/subscriptions";

const session = vi.hoisted(() => ({ user: null as SessionUser | null }));
vi.mock("@/lib/auth/session", () => ({
  currentUser: async () => session.user,
  requireUser: async () => session.user,
}));

const { db } = useTestDatabase();
beforeEach(async () => {
  await syncPlans(db);
});

/** Every text in a server component's element tree (its own JSX; child components are not run). */
function texts(node: unknown): string[] {
  if (node === null || node === undefined || typeof node === "boolean") return [];
  if (typeof node === "string" || typeof node === "number") return [String(node)];
  if (Array.isArray(node)) return node.flatMap(texts);
  if (typeof node === "object" && "props" in node) {
    const props = (node as { props: Record<string, unknown> }).props;
    return [...(typeof props.href === "string" ? [props.href] : []), ...texts(props.children)];
  }
  return [];
}

describe("staff organisation page: plan and invoices", () => {
  it("shows the plan with its period and scheduled change, and the invoices from Stripe newest first, bounded", async () => {
    const w = await clockOrg(db);
    await subscribePaid(db, w, "growth", "month");
    const [sub] = await db.select().from(subscriptions).where(eq(subscriptions.orgId, w.org.id));
    await advanceTo(w.clock.id, sub!.currentPeriodEnd!.getTime() / 1000 + 2 * 3600);
    const down = await runOrgAction(changePlanDef, w.admin, { orgSlug: w.org.slug, planKey: "starter", interval: "month", requestId: crypto.randomUUID() }, db);
    expect(down).toMatchObject({ ok: true, data: { kind: "at_period_end" } });

    const billing = await organisationBilling(db, w.org.id);
    expect(billing.plan).toMatchObject({ status: "active", planKey: "growth", interval: "month", cancelAtPeriodEnd: false, scheduledPlanKey: "starter", scheduledInterval: "month", graceEndsAt: null });
    expect(billing.plan!.currentPeriodStart).not.toBeNull();
    expect(billing.invoices).toHaveLength(2);
    expect(billing.invoices!.map((i) => [i.status, i.total, i.currency])).toEqual([["paid", 9900, "usd"], ["paid", 9900, "usd"]]);
    expect(billing.invoices![0]!.created.getTime()).toBeGreaterThan(billing.invoices![1]!.created.getTime());
    expect(billing.invoices!.every((i) => i.url?.startsWith("http"))).toBe(true);
    expect((await organisationBilling(db, w.org.id, 1)).invoices!.map((i) => i.id)).toEqual([billing.invoices![0]!.id]);

    // The page, as staff: plan, period, the scheduled change, formatted amounts and the links.
    session.user = await makeUser(db, { isStaff: true });
    const page = (await import("@/app/staff/orgs/[slug]/page")).default;
    const text = texts(await page({ params: Promise.resolve({ slug: w.org.slug }), searchParams: Promise.resolve({}) })).join(" ");
    expect(text).toContain("Growth");
    expect(text).toContain("Scheduled change: ");
    expect(text).toContain("Starter");
    expect(text).toContain("$99.00");
    expect(text).toContain(billing.invoices![0]!.url!);
    expect(text).not.toContain("appear here once subscriptions exist");

    // Stripe unreachable: invoices could not be loaded (null), the plan still shows.
    await injectFault({ method: "GET", path: "/v1/invoices", status: 500, count: 10 });
    try {
      const failing = await organisationBilling(db, w.org.id);
      expect(failing.invoices).toBeNull();
      expect(failing.plan?.planKey).toBe("growth");
    } finally {
      await clearFaults();
    }
  });

  it("an organisation without a customer has no plan and no invoices", async () => {
    const w = await clockOrg(db);
    expect(await organisationBilling(db, w.org.id)).toMatchObject({ plan: null, invoices: [] });
  });
});
