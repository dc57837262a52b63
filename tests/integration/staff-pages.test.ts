// Every page under app/staff (found on disk, not listed by hand) and the staff layout answer 404
// (Next's notFound) to everyone but platform staff: signed out, members and admins alike.
import { readdirSync, statSync } from "node:fs";
import path from "node:path";
import { beforeEach, describe, expect, it, vi } from "vitest";
import type { SessionUser } from "@/lib/auth/access";
import { useTestDatabase } from "../support/context";
import { makeOrg, makeUser } from "../support/fixtures";

const session = vi.hoisted(() => ({ user: null as SessionUser | null }));
vi.mock("@/lib/auth/session", () => ({
  currentUser: async () => session.user,
  requireUser: async () => {
    if (!session.user) throw new Error("NEXT_REDIRECT /signin");
    return session.user;
  },
}));

const { db } = useTestDatabase();
beforeEach(() => {
  session.user = null;
});

const STAFF_DIR = path.resolve(import.meta.dirname, "../../app/staff");
function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const full = path.join(dir, n);
    return statSync(full).isDirectory() ? walk(full) : /^(page|layout)\.tsx$/.test(n) ? [full] : [];
  });
}
const files = walk(STAFF_DIR);

const isNotFound = (e: unknown) => e instanceof Error && /NEXT_HTTP_ERROR_FALLBACK;404|NEXT_NOT_FOUND/.test((e as { digest?: string }).digest ?? e.message);

async function render(file: string, slug: string) {
  const mod = (await import(file)) as { default: (props: unknown) => Promise<unknown> };
  return mod.default({ params: Promise.resolve({ slug, id: "evt_unknown" }), searchParams: Promise.resolve({}), children: null });
}

describe("staff pages", () => {
  it("finds the console's pages", () => {
    expect(files.length).toBeGreaterThanOrEqual(8);
  });

  it.each(files.map((f) => [path.relative(STAFF_DIR, f)]))("%s: 404 for signed out, member, admin; staff gets it", async (rel) => {
    const file = path.join(STAFF_DIR, rel);
    const org = await makeOrg(db);
    const member = await makeUser(db, { orgId: org.id, role: "member" });
    const admin = await makeUser(db, { orgId: org.id, role: "admin" });
    const staff = await makeUser(db, { isStaff: true });
    for (const user of [null, member, admin]) {
      session.user = user;
      const outcome = await render(file, org.slug).then(
        () => "rendered",
        (e) => (isNotFound(e) ? "404" : `error: ${String(e)}`),
      );
      expect(outcome, user?.email ?? "signed out").toBe("404");
    }
    session.user = staff;
    const outcome = await render(file, org.slug).then(
      () => "rendered",
      (e) => (isNotFound(e) ? "404" : `error: ${String(e)}`),
    );
    // The event page for an unknown event id is a 404 for staff too (it does not exist).
    expect(outcome).toBe(rel.startsWith("events/[id]") ? "404" : "rendered");
  });
});
