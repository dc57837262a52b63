// The wrapper every platform-staff server action goes through. Staff is checked FIRST, before the
// input is even parsed: anyone else (signed out included) gets `not_found`, the same answer as
// for an action that does not exist, so the console cannot be probed. Then: parse with zod, run
// the service with the acting staff member, turn errors into a result the form can show.
import { z } from "zod";
import { getDb, type Db } from "@/db/client";
import { AppError, GENERIC_ERROR_MESSAGE } from "../errors";
import { log } from "../log";
import type { SessionUser } from "../auth/access";
import type { ActionResult } from "./org-action";

export type StaffActionDef<S extends z.ZodType, T> = {
  name: string;
  schema: S;
  handler: (ctx: { db: Db; staff: SessionUser; input: z.infer<S> }) => Promise<T>;
};

export function defineStaffAction<S extends z.ZodType, T>(def: StaffActionDef<S, T>) {
  return def;
}

export const NOT_FOUND_RESULT = { ok: false, code: "not_found", error: "Not found." } as const;

export async function runStaffAction<S extends z.ZodType, T>(
  def: StaffActionDef<S, T>,
  user: SessionUser | null,
  rawInput: unknown,
  db: Db = getDb(),
): Promise<ActionResult<T>> {
  if (!user?.isStaff) return NOT_FOUND_RESULT;
  const parsed = def.schema.safeParse(rawInput);
  if (!parsed.success) {
    const fieldErrors: Record<string, string[]> = {};
    for (const issue of parsed.error.issues) (fieldErrors[issue.path.join(".")] ??= []).push(issue.message);
    return { ok: false, code: "invalid_input", error: "Please check the highlighted fields.", fieldErrors };
  }
  try {
    return { ok: true, data: await def.handler({ db, staff: user, input: parsed.data }) };
  } catch (e) {
    if (e instanceof AppError) return { ok: false, code: e.code, error: e.message };
    log.error({ event: "staff_action_failed", action: def.name, userId: user.id, err: e }, "staff action failed");
    return { ok: false, code: "internal", error: GENERIC_ERROR_MESSAGE };
  }
}
