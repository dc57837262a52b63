// Credential sign-in: the throttle (per account and per client address, counted in the
// database so it holds across app instances) and the password check. An attempt is recorded as a
// failure before the password is checked, under advisory locks on the account and the address,
// so parallel guesses are counted exactly; a correct password flips it to succeeded.
// An unknown email costs the same work as a known one (one scrypt against a dummy hash), and the
// outcome never says which part was wrong. While an account or address is locked even a correct
// password is refused, and refused attempts are not recorded (the lock ends a window after the
// failures that caused it, however often someone retries).
import { eq, lt, sql } from "drizzle-orm";
import type { Db } from "@/db/client";
import { signInAttempts, users } from "@/db/schema";
import { advisoryXactLock, LOCK_NAMESPACE } from "../locks";
import { log } from "../log";
import { verifyPassword } from "./password";
import { SIGN_IN_WINDOW_MS, signInThrottle } from "./sign-in-throttle";

export type SignInUser = { id: string; email: string; name: string };
export type SignInOutcome = { ok: true; user: SignInUser } | { ok: false; reason: "invalid" | "throttled" };

/** A real scrypt hash of a random password nobody knows, for unknown emails. */
export const DUMMY_HASH = "scrypt$JIM9We1swsAmIyYRzKu73g==$ugaW46NWeS1Ku6P0eGKUih5up1erUcmF9dNMjn5T+ac=";

export type SignInDeps = { verify: (password: string, storedHash: string) => Promise<boolean> };

export async function signInWithPassword(
  db: Db,
  input: { email: string; password: string; address: string },
  deps: SignInDeps = { verify: verifyPassword },
): Promise<SignInOutcome> {
  const email = input.email.trim().toLowerCase().slice(0, 254);
  const address = input.address;

  const attemptId = await db.transaction(async (tx) => {
    await advisoryXactLock(tx, LOCK_NAMESPACE.signInAccount, email);
    await advisoryXactLock(tx, LOCK_NAMESPACE.signInAddress, address);
    const since = new Date(Date.now() - SIGN_IN_WINDOW_MS);
    // Account failures count since the account's last success (a correct sign-in clears them);
    // address failures do not reset, or signing in to one's own account would clear them.
    const [counts] = await tx.execute<{ account: number; address: number }>(sql`
      select
        (select count(*)::int from ${signInAttempts}
          where ${signInAttempts.email} = ${email} and not ${signInAttempts.succeeded}
            and ${signInAttempts.createdAt} > greatest(${since.toISOString()}::timestamptz,
              coalesce((select max(s.created_at) from sign_in_attempts s where s.email = ${email} and s.succeeded), '-infinity'))) as account,
        (select count(*)::int from ${signInAttempts}
          where ${signInAttempts.address} = ${address} and not ${signInAttempts.succeeded}
            and ${signInAttempts.createdAt} > ${since.toISOString()}::timestamptz) as address`);
    const verdict = signInThrottle({ accountFailures: counts!.account, addressFailures: counts!.address });
    if (verdict.limited) {
      log.warn({ event: "sign_in_throttled", scope: verdict.scope, address }, "sign-in refused: too many failed attempts");
      return null;
    }
    const [row] = await tx.insert(signInAttempts).values({ email, address }).returning({ id: signInAttempts.id });
    return row!.id;
  });
  if (attemptId === null) return { ok: false, reason: "throttled" };

  const [user] = await db
    .select({ id: users.id, email: users.email, name: users.name, passwordHash: users.passwordHash })
    .from(users)
    .where(eq(users.email, email));
  // Exactly one hash computation whether or not the account exists.
  const passwordOk = await deps.verify(input.password, user?.passwordHash ?? DUMMY_HASH);
  if (!user || !passwordOk) {
    log.info({ event: "sign_in_failed", address }, "sign-in failed");
    return { ok: false, reason: "invalid" };
  }
  await db.update(signInAttempts).set({ succeeded: true }).where(eq(signInAttempts.id, attemptId));
  return { ok: true, user: { id: user.id, email: user.email, name: user.name } };
}

/** How long attempts are kept (for the throttle only the last window matters; the rest is audit). */
export const SIGN_IN_ATTEMPT_RETENTION_MS = 30 * 24 * 60 * 60 * 1000;

/** Deletes attempts older than the retention; for a scheduled job. Returns how many went. */
export async function pruneSignInAttempts(db: Db, olderThanMs = SIGN_IN_ATTEMPT_RETENTION_MS): Promise<number> {
  const cutoff = new Date(Date.now() - Math.max(olderThanMs, SIGN_IN_WINDOW_MS));
  const gone = await db.delete(signInAttempts).where(lt(signInAttempts.createdAt, cutoff)).returning({ id: signInAttempts.id });
  return gone.length;
}
