// Credential sign-in throttle, in the database: failures lock the account and the client address
// for a window (a correct password is refused meanwhile), parallel guesses are counted exactly,
// and an unknown email costs one hash like a known one.
import { describe, expect, it, vi } from "vitest";
import { eq, sql } from "drizzle-orm";
import { signInAttempts, users } from "@/db/schema";
import { hashPassword, verifyPassword } from "@/lib/auth/password";
import { DUMMY_HASH, pruneSignInAttempts, signInWithPassword } from "@/lib/auth/sign-in";
import { ACCOUNT_FAILURE_LIMIT, ADDRESS_FAILURE_LIMIT, SIGN_IN_THROTTLED } from "@/lib/auth/sign-in-throttle";
import { authOptions } from "@/lib/auth/options";
import { useTestDatabase } from "../support/context";
import { enqueue, SCHEDULES } from "@/lib/jobs/queue";
import { runQueuedJobs } from "@/lib/jobs/workers";
import { NextRequest } from "next/server";
import { POST as nextAuthPost } from "@/app/api/auth/[...nextauth]/route";
import { AUTH_MAX_BODY_BYTES } from "@/lib/auth/body-limit";
import { changedTables, dbFingerprint } from "../support/db-fingerprint";
import { streamedBody } from "../support/streamed-body";
import { inRequestScope } from "../support/request-scope";
import { nextauthContext, signInThroughNextAuth } from "../support/next-auth";

const { db } = useTestDatabase();
const PASSWORD = "correct horse battery staple";

async function makeAccount(email = `user-${crypto.randomUUID()}@example.test`) {
  const [u] = await db.insert(users).values({ email, name: "Someone", passwordHash: await hashPassword(PASSWORD) }).returning();
  return u!;
}

const attempt = (email: string, password: string, address = "203.0.113.1") => signInWithPassword(db, { email, password, address });
const failures = async (where: { email?: string; address?: string }) => {
  const [r] = await db
    .select({ n: sql<number>`count(*)::int` })
    .from(signInAttempts)
    .where(sql`not ${signInAttempts.succeeded} and ${where.email ? eq(signInAttempts.email, where.email) : sql`true`} and ${where.address ? eq(signInAttempts.address, where.address) : sql`true`}`);
  return r!.n;
};

describe("sign-in throttle", () => {
  it(`${ACCOUNT_FAILURE_LIMIT} wrong passwords lock the account, from any address; the right password is refused during the lock`, async () => {
    const u = await makeAccount();
    for (let i = 0; i < ACCOUNT_FAILURE_LIMIT; i++) {
      expect(await attempt(u.email, "wrong", `198.51.100.${i}`)).toEqual({ ok: false, reason: "invalid" });
    }
    const verify = vi.fn(verifyPassword);
    expect(await signInWithPassword(db, { email: u.email, password: PASSWORD, address: "192.0.2.200" }, { verify })).toEqual({ ok: false, reason: "throttled" });
    expect(verify).not.toHaveBeenCalled();
    // Refused attempts are not recorded: the lock does not extend itself.
    expect(await failures({ email: u.email })).toBe(ACCOUNT_FAILURE_LIMIT);

    // Once the failures are older than the window, the right password works again.
    await db.execute(sql`update sign_in_attempts set created_at = now() - interval '16 minutes'`);
    expect(await attempt(u.email, PASSWORD)).toMatchObject({ ok: true, user: { id: u.id } });
  });

  it(`${ADDRESS_FAILURE_LIMIT} failures from one address lock that address for every account, not other addresses`, async () => {
    const victim = await makeAccount();
    for (let i = 0; i < ADDRESS_FAILURE_LIMIT; i++) {
      expect(await attempt(`nobody-${i}@example.test`, "guess", "203.0.113.9")).toEqual({ ok: false, reason: "invalid" });
    }
    expect(await attempt(victim.email, PASSWORD, "203.0.113.9")).toEqual({ ok: false, reason: "throttled" });
    expect(await attempt(victim.email, PASSWORD, "203.0.113.10")).toMatchObject({ ok: true });
  });

  it("a success clears the account's earlier failures but not the address's", async () => {
    const u = await makeAccount();
    for (let i = 0; i < ACCOUNT_FAILURE_LIMIT - 1; i++) await attempt(u.email, "wrong");
    expect(await attempt(u.email, PASSWORD)).toMatchObject({ ok: true });
    for (let i = 0; i < ACCOUNT_FAILURE_LIMIT - 1; i++) expect(await attempt(u.email, "wrong")).toEqual({ ok: false, reason: "invalid" });
    expect(await attempt(u.email, PASSWORD)).toMatchObject({ ok: true });
    expect(await failures({ address: "203.0.113.1" })).toBe(2 * (ACCOUNT_FAILURE_LIMIT - 1));
  });

  it("parallel wrong guesses: exactly the limit is checked and recorded, the rest are refused unchecked", async () => {
    const u = await makeAccount();
    const verify = vi.fn(verifyPassword);
    const outcomes = await Promise.all(
      Array.from({ length: 12 }, (_, i) => signInWithPassword(db, { email: u.email, password: `guess-${i}`, address: `198.51.100.${i}` }, { verify })),
    );
    expect(outcomes.filter((o) => !o.ok && o.reason === "invalid")).toHaveLength(ACCOUNT_FAILURE_LIMIT);
    expect(outcomes.filter((o) => !o.ok && o.reason === "throttled")).toHaveLength(12 - ACCOUNT_FAILURE_LIMIT);
    expect(verify).toHaveBeenCalledTimes(ACCOUNT_FAILURE_LIMIT);
    expect(await failures({ email: u.email })).toBe(ACCOUNT_FAILURE_LIMIT);
  });

  it("an unknown email costs one hash, like a known one, and fails the same way", async () => {
    const u = await makeAccount();
    const verify = vi.fn(verifyPassword);
    const unknown = await signInWithPassword(db, { email: "nobody@example.test", password: PASSWORD, address: "a" }, { verify });
    expect(verify).toHaveBeenCalledTimes(1);
    expect(verify).toHaveBeenLastCalledWith(PASSWORD, DUMMY_HASH);
    const known = await signInWithPassword(db, { email: u.email, password: "wrong", address: "a" }, { verify });
    expect(verify).toHaveBeenCalledTimes(2);
    expect(verify).toHaveBeenLastCalledWith("wrong", u.passwordHash);
    expect(unknown).toEqual(known);
    // The dummy is a real hash of the same shape, so it costs a full scrypt.
    expect(DUMMY_HASH.split("$")).toHaveLength(3);
    expect(u.passwordHash.split("$")[0]).toBe(DUMMY_HASH.split("$")[0]);
    expect(Buffer.from(DUMMY_HASH.split("$")[2]!, "base64")).toHaveLength(Buffer.from(u.passwordHash.split("$")[2]!, "base64").length);
    // Unknown emails lock like known ones, so a lock reveals nothing.
    for (let i = 0; i < ACCOUNT_FAILURE_LIMIT - 1; i++) await attempt("nobody@example.test", "x", `192.0.2.${i}`);
    expect(await attempt("nobody@example.test", "x")).toEqual({ ok: false, reason: "throttled" });
  });

  it("through next-auth: the client address is the first X-Forwarded-For hop; a lock is reported as such, a wrong password as null", async () => {
    const u = await makeAccount();
    const provider = authOptions.providers[0] as unknown as {
      options: { authorize: (c: Record<string, string>, req: { headers: Record<string, string> }) => Promise<unknown> };
    };
    const authorize = (password: string, xff: string) => provider.options.authorize({ email: u.email.toUpperCase(), password }, { headers: { "x-forwarded-for": xff } });
    expect(await authorize(PASSWORD, "203.0.113.50, 10.0.0.1")).toMatchObject({ id: u.id, email: u.email });
    const [row] = await db.select().from(signInAttempts).where(eq(signInAttempts.email, u.email));
    expect(row).toMatchObject({ address: "203.0.113.50", succeeded: true });
    for (let i = 0; i < ACCOUNT_FAILURE_LIMIT; i++) expect(await authorize("wrong", "203.0.113.50")).toBeNull();
    await expect(authorize(PASSWORD, "203.0.113.50")).rejects.toThrow(SIGN_IN_THROTTLED);
    // Malformed input is refused before any work and records nothing.
    expect(await provider.options.authorize({ email: "not an email", password: "x" }, { headers: {} })).toBeNull();
    expect(await failures({ email: "not an email" })).toBe(0);
  });

  it("over the wire (next-auth's route, as the form calls it): wrong password and unknown email report the same error; a lock reports only that", async () => {
    const u = await makeAccount();
    const wrong = await signInThroughNextAuth({ email: u.email, password: "wrong", forwardedFor: "203.0.113.60" });
    const unknown = await signInThroughNextAuth({ email: "nobody@example.test", password: "wrong", forwardedFor: "203.0.113.60" });
    expect(wrong).toEqual({ status: 401, error: "CredentialsSignin" });
    expect(unknown).toEqual(wrong);
    for (let i = 0; i < ACCOUNT_FAILURE_LIMIT - 1; i++) await signInThroughNextAuth({ email: u.email, password: "wrong", forwardedFor: "203.0.113.60" });
    expect(await signInThroughNextAuth({ email: u.email, password: PASSWORD, forwardedFor: "198.51.100.200" })).toEqual({ status: 401, error: SIGN_IN_THROTTLED });
    expect(await failures({ address: "203.0.113.60" })).toBe(ACCOUNT_FAILURE_LIMIT + 1);
  });

  it("pruning removes only attempts older than the retention, never ones the window still counts", async () => {
    const u = await makeAccount();
    for (let i = 0; i < 3; i++) await attempt(u.email, "wrong");
    await db.execute(sql`update sign_in_attempts set created_at = now() - interval '40 days' where id = (select min(id) from sign_in_attempts)`);
    expect(await pruneSignInAttempts(db)).toBe(1);
    expect(await pruneSignInAttempts(db, 0)).toBe(0); // the window is the floor
    expect(await failures({ email: u.email })).toBe(2);
  });

  it("the daily pruning job deletes old attempts through the job queue", async () => {
    const u = await makeAccount();
    for (let i = 0; i < 2; i++) await attempt(u.email, "wrong");
    await db.execute(sql`update sign_in_attempts set created_at = now() - interval '40 days' where id = (select min(id) from sign_in_attempts)`);
    expect(SCHEDULES["auth.prune-sign-in-attempts"]).toBeTruthy();
    await enqueue(db, "auth.prune-sign-in-attempts", {}, { singletonKey: "auth.prune-sign-in-attempts" });
    const runs = await runQueuedJobs(db, { names: ["auth.prune-sign-in-attempts"] });
    expect(runs).toMatchObject([{ name: "auth.prune-sign-in-attempts", ok: true, output: { pruned: 1 } }]);
    expect(await failures({ email: u.email })).toBe(1);
  });

  it("next-auth's route reads the body with a cap: a chunked 50 MB form post is cut off (413) without reading the rest, writing nothing", async () => {
    // next-auth reads a form post with request.text(), whole; the route is open to anyone.
    await makeAccount();
    const before = await dbFingerprint(db);
    const big = streamedBody(50 * 1024 * 1024, 4096);
    const req = new NextRequest("http://localhost:3000/api/auth/callback/credentials", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: big.stream,
      duplex: "half",
    } as ConstructorParameters<typeof NextRequest>[1]);
    const post = nextAuthPost as unknown as (req: Request, ctx: unknown) => Promise<Response>;
    const res = await inRequestScope(req, () => post(req, nextauthContext("callback", "credentials")));
    expect(res.status).toBe(413);
    expect(((await res.json()) as { error: string }).error).toMatch(/too large/i);
    expect(big.pulled()).toBeLessThanOrEqual(AUTH_MAX_BODY_BYTES + 4 * 4096);
    expect(big.cancelled()).toBe(true);
    expect(changedTables(before, await dbFingerprint(db))).toEqual([]);
  });
});
