// Plan changes are audited: subscribe, change plan (now and at the period end), cancel a scheduled
// change, cancel at period end and keep each write exactly one audit row with the acting admin,
// the action and its details (from → to, the state after), in the transaction that records the
// mirror. A retried request (same request id) writes no second row; a refused change writes none.
import { beforeEach, describe, expect, it } from "vitest";
import { asc, eq } from "drizzle-orm";
import { auditLog, subscriptions } from "@/db/schema";
import { runOrgAction } from "@/lib/actions/org-action";
import {
  cancelScheduledChangeDef,
  changePlanDef,
  confirmSubscriptionTestCardDef,
  setPlanCancellationDef,
  startSubscriptionDef,
} from "@/lib/subscriptions/actions";
import { useTestDatabase } from "../support/context";
import { makeOrg, makeUser } from "../support/fixtures";
import { syncPlans } from "../support/subscriptions";

const { db } = useTestDatabase();
beforeEach(async () => {
  await syncPlans(db);
});

const auditRows = async () => db.select().from(auditLog).orderBy(asc(auditLog.id));

async function ok<T>(p: Promise<{ ok: true; data: T } | { ok: false; error: string }>): Promise<T> {
  const r = await p;
  if (!r.ok) throw new Error(r.error);
  return r.data;
}

describe("plan changes are audited", () => {
  it("subscribe, upgrade, scheduled downgrade, its cancellation, cancel at period end and keep: one row each with actor, action and details", async () => {
    const org = await makeOrg(db);
    const admin = await makeUser(db, { orgId: org.id, role: "admin" });
    const member = await makeUser(db, { orgId: org.id, role: "member" });
    const slug = org.slug;

    const subscribeRequest = crypto.randomUUID();
    const started = await ok(runOrgAction(startSubscriptionDef, admin, { orgSlug: slug, planKey: "growth", interval: "month", requestId: subscribeRequest }, db));
    // A double click (same request id) continues the same subscription: no second row.
    await ok(runOrgAction(startSubscriptionDef, admin, { orgSlug: slug, planKey: "growth", interval: "month", requestId: subscribeRequest }, db));
    const paid = await ok(runOrgAction(confirmSubscriptionTestCardDef, admin, { orgSlug: slug, subscriptionId: started.subscriptionId, paymentMethod: "pm_card_visa" }, db));
    expect(paid.outcome).toBe("processing");
    let rows = await auditRows();
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ action: "plan.subscribe", actorUserId: admin.id, orgId: org.id, targetType: "subscription", targetId: started.subscriptionId });
    expect(rows[0]!.details).toMatchObject({ requestId: subscribeRequest, planKey: "growth", interval: "month", after: { planKey: "growth", interval: "month" } });

    // Upgrade now (paid at once with the saved card).
    const upgradeRequest = crypto.randomUUID();
    const up = await ok(runOrgAction(changePlanDef, admin, { orgSlug: slug, planKey: "scale", interval: "month", requestId: upgradeRequest }, db));
    expect(up).toMatchObject({ kind: "now", applied: true });
    rows = await auditRows();
    expect(rows).toHaveLength(2);
    expect(rows[1]).toMatchObject({ action: "plan.change", actorUserId: admin.id, orgId: org.id, targetId: started.subscriptionId });
    expect(rows[1]!.details).toMatchObject({ requestId: upgradeRequest, kind: "now", applied: true, from: { planKey: "growth", interval: "month" }, to: { planKey: "scale", interval: "month" }, after: { status: "active", planKey: "scale" } });

    // A refused change (members may not change the plan; the current plan is no change) writes nothing.
    expect(await runOrgAction(changePlanDef, member, { orgSlug: slug, planKey: "starter", interval: "month", requestId: crypto.randomUUID() }, db)).toMatchObject({ ok: false, code: "forbidden" });
    expect(await runOrgAction(changePlanDef, admin, { orgSlug: slug, planKey: "scale", interval: "month", requestId: crypto.randomUUID() }, db)).toMatchObject({ ok: false, code: "conflict" });
    expect(await auditRows()).toHaveLength(2);

    // Downgrade at the period end, then cancel that scheduled change.
    const down = await ok(runOrgAction(changePlanDef, admin, { orgSlug: slug, planKey: "starter", interval: "month", requestId: crypto.randomUUID() }, db));
    expect(down).toMatchObject({ kind: "at_period_end", applied: false });
    const unscheduleRequest = crypto.randomUUID();
    await ok(runOrgAction(cancelScheduledChangeDef, admin, { orgSlug: slug, requestId: unscheduleRequest }, db));
    rows = await auditRows();
    expect(rows.map((r) => r.action)).toEqual(["plan.subscribe", "plan.change", "plan.change", "plan.cancel_scheduled_change"]);
    expect(rows[2]!.details).toMatchObject({ kind: "at_period_end", applied: false, to: { planKey: "starter" }, after: { planKey: "scale", scheduledPlanKey: "starter" } });
    expect(rows[3]).toMatchObject({ actorUserId: admin.id, orgId: org.id });
    expect(rows[3]!.details).toMatchObject({ requestId: unscheduleRequest, dropped: { planKey: "starter", interval: "month" }, after: { planKey: "scale", scheduledPlanKey: null } });

    // Cancel at period end (retried with the same request id: still one row), then keep.
    const cancelRequest = crypto.randomUUID();
    await ok(runOrgAction(setPlanCancellationDef, admin, { orgSlug: slug, choice: "cancel_at_period_end", requestId: cancelRequest }, db));
    await ok(runOrgAction(setPlanCancellationDef, admin, { orgSlug: slug, choice: "cancel_at_period_end", requestId: cancelRequest }, db));
    await ok(runOrgAction(setPlanCancellationDef, admin, { orgSlug: slug, choice: "keep", requestId: crypto.randomUUID() }, db));
    rows = await auditRows();
    expect(rows.map((r) => r.action)).toEqual(["plan.subscribe", "plan.change", "plan.change", "plan.cancel_scheduled_change", "plan.cancel_at_period_end", "plan.keep"]);
    expect(rows[4]!.details).toMatchObject({ requestId: cancelRequest, planKey: "scale", after: { cancelAtPeriodEnd: true } });
    expect(rows[5]!.details).toMatchObject({ after: { cancelAtPeriodEnd: false } });
    expect(rows.every((r) => r.actorUserId === admin.id && r.orgId === org.id && r.targetId === started.subscriptionId)).toBe(true);

    const [sub] = await db.select().from(subscriptions).where(eq(subscriptions.orgId, org.id));
    expect(sub).toMatchObject({ planKey: "scale", cancelAtPeriodEnd: false, scheduledPlanKey: null });
  });
});
