// Cross-organisation access: ids in requests are never trusted on their own.
import { describe, expect, it } from "vitest";
import { runOrgAction } from "@/lib/actions/org-action";
import { purchaseStatusDef, startTopUpDef, confirmTestCardDef, cancelTopUpDef } from "@/lib/topups/actions";
import { requireOrgAccess } from "@/lib/auth/access";
import { AppError } from "@/lib/errors";
import { useTestDatabase } from "../support/context";
import { makeOrg, makePack, makeUser, snapshot } from "../support/fixtures";

const { db } = useTestDatabase();

describe("access", () => {
  it("a member of A cannot start a top-up for B, nor read or touch B's purchases and transactions", async () => {
    const a = await makeOrg(db);
    const b = await makeOrg(db);
    const memberA = await makeUser(db, { orgId: a.id, role: "member" });
    const adminB = await makeUser(db, { orgId: b.id, role: "admin" });
    const pack = await makePack(db);

    const forB = await runOrgAction(startTopUpDef, memberA, { orgSlug: b.slug, packId: pack.id, requestId: crypto.randomUUID() }, db);
    expect(forB).toMatchObject({ ok: false, code: "not_found" });
    expect((await snapshot(db, b.id)).purchases).toHaveLength(0);

    const bStarted = await runOrgAction(startTopUpDef, adminB, { orgSlug: b.slug, packId: pack.id, requestId: crypto.randomUUID() }, db);
    if (!bStarted.ok) throw new Error(bStarted.error);
    const purchaseId = bStarted.data.purchaseId;

    // B's purchase id through A's organisation: not found, and B's purchase is untouched.
    expect(await runOrgAction(purchaseStatusDef, memberA, { orgSlug: a.slug, purchaseId }, db)).toMatchObject({ ok: false, code: "not_found" });
    expect(await runOrgAction(confirmTestCardDef, memberA, { orgSlug: a.slug, purchaseId, paymentMethod: "pm_card_visa" }, db)).toMatchObject({ ok: false, code: "not_found" });
    expect(await runOrgAction(cancelTopUpDef, memberA, { orgSlug: a.slug, purchaseId }, db)).toMatchObject({ ok: false, code: "not_found" });
    expect(await runOrgAction(purchaseStatusDef, memberA, { orgSlug: b.slug, purchaseId }, db)).toMatchObject({ ok: false, code: "not_found" });
    expect((await snapshot(db, b.id)).purchases[0]!.status).toBe("pending");

    // Reading B's ledger (the transactions page resolves access this way).
    await expect(requireOrgAccess(db, memberA, { slug: b.slug }, "read")).rejects.toMatchObject({ code: "not_found" });
    await expect(requireOrgAccess(db, memberA, { id: b.id }, "read")).rejects.toBeInstanceOf(AppError);
    await expect(requireOrgAccess(db, memberA, { slug: a.slug }, "read")).resolves.toMatchObject({ role: "member" });
  });

  it("members cannot act as admins; staff read any organisation but cannot pay for it", async () => {
    const a = await makeOrg(db);
    const memberA = await makeUser(db, { orgId: a.id, role: "member" });
    const staff = await makeUser(db, { isStaff: true });
    await expect(requireOrgAccess(db, memberA, { slug: a.slug }, "admin")).rejects.toMatchObject({ code: "forbidden" });
    await expect(requireOrgAccess(db, staff, { slug: a.slug }, "read")).resolves.toMatchObject({ role: null });
    const pack = await makePack(db);
    expect(await runOrgAction(startTopUpDef, staff, { orgSlug: a.slug, packId: pack.id, requestId: crypto.randomUUID() }, db)).toMatchObject({ ok: false, code: "not_found" });
  });

  it("signed-out callers get unauthenticated and nothing happens", async () => {
    const a = await makeOrg(db);
    const pack = await makePack(db);
    expect(await runOrgAction(startTopUpDef, null, { orgSlug: a.slug, packId: pack.id, requestId: crypto.randomUUID() }, db)).toMatchObject({ ok: false, code: "unauthenticated" });
    expect((await snapshot(db, a.id)).purchases).toHaveLength(0);
  });
});
