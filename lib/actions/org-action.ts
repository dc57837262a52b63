// The wrapper every organisation-scoped server action goes through: parse with zod, authorise
// from the session against the organisation named in the input, run the service, and turn
// errors into a result the form can show. Authorisation is decided here, once. Messages shown
// to the caller never echo the input (zod's messages and AppError's are fixed text), so nothing a
// caller typed comes back as markup; tests/integration/bad-input-actions.test.ts holds it to that.
import { randomUUID } from "node:crypto";
import { z } from "zod";
import { getDb, type Db } from "@/db/client";
import { AppError, GENERIC_ERROR_MESSAGE, type ErrorCode } from "../errors";
import { classifyDbError, DB_UNAVAILABLE_MESSAGE } from "../db-errors";
import { log } from "../log";
import { requireOrgAccess, type OrgAccess, type SessionUser } from "../auth/access";
import type { AccessNeed } from "../auth/access-rule";

export type ActionResult<T> =
  | { ok: true; data: T }
  | { ok: false; code: ErrorCode | "internal"; error: string; fieldErrors?: Record<string, string[]> };

export const orgSlugField = z.string().regex(/^[a-z0-9][a-z0-9-]*$/, "Unknown organisation.");

export type OrgActionDef<S extends z.ZodObject<{ orgSlug: typeof orgSlugField }>, T> = {
  name: string;
  schema: S;
  role: AccessNeed;
  handler: (ctx: { db: Db; access: OrgAccess; input: z.infer<S> }) => Promise<T>;
};

export function defineOrgAction<S extends z.ZodObject<{ orgSlug: typeof orgSlugField }>, T>(def: OrgActionDef<S, T>) {
  return def;
}

/**
 * Runs an action for a known user; the app passes the session user, tests pass one directly.
 * Unexpected errors are logged with a request id (the caller's `x-request-id` when it passes one,
 * else a fresh one) and shown as the generic message.
 */
export async function runOrgAction<S extends z.ZodObject<{ orgSlug: typeof orgSlugField }>, T>(
  def: OrgActionDef<S, T>,
  user: SessionUser | null,
  rawInput: unknown,
  db: Db = getDb(),
  requestId: string = randomUUID(),
): Promise<ActionResult<T>> {
  if (!user) return { ok: false, code: "unauthenticated", error: "Your session has ended. Sign in again to continue." };
  const parsed = def.schema.safeParse(rawInput);
  if (!parsed.success) {
    const fieldErrors: Record<string, string[]> = {};
    for (const issue of parsed.error.issues) (fieldErrors[issue.path.join(".")] ??= []).push(issue.message);
    return { ok: false, code: "invalid_input", error: "Please check the highlighted fields.", fieldErrors };
  }
  let orgId: string | undefined;
  try {
    const access = await requireOrgAccess(db, user, { slug: parsed.data.orgSlug }, def.role);
    orgId = access.org.id;
    return { ok: true, data: await def.handler({ db, access, input: parsed.data }) };
  } catch (e) {
    if (e instanceof AppError) return { ok: false, code: e.code, error: e.message };
    // Database down or too slow (bounded waits in db/client.ts): say "try again", not "error".
    const dbFailure = classifyDbError(e);
    if (dbFailure) {
      log
        .child({ requestId, action: def.name, userId: user.id, orgId, orgSlug: parsed.data.orgSlug })
        .warn({ event: "action_db_unavailable", code: dbFailure.code }, `server action: database ${dbFailure.kind}`);
      return { ok: false, code: "internal", error: DB_UNAVAILABLE_MESSAGE };
    }
    log.child({ requestId, action: def.name, userId: user.id, orgId, orgSlug: parsed.data.orgSlug }).error({ event: "action_failed", err: e }, "server action failed");
    return { ok: false, code: "internal", error: GENERIC_ERROR_MESSAGE };
  }
}
