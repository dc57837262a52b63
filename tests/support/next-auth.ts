// Calls the next-auth route handlers the way the browser's signIn() does (csrf, then a form post
// with json=true), inside a stand-in request scope, for tests.
import { NextRequest } from "next/server";
import { GET, POST } from "@/app/api/auth/[...nextauth]/route";
import { inRequestScope } from "./request-scope";

const BASE = process.env.NEXTAUTH_URL ?? "http://localhost:3000";
export const nextauthContext = (...segments: string[]) => ({ params: Promise.resolve({ nextauth: segments }) });

type Handler = (req: Request, ctx: unknown) => Promise<Response>;
const get = GET as unknown as Handler;
const post = POST as unknown as Handler;

export async function csrf(cookie = ""): Promise<{ token: string; cookie: string }> {
  const req = new NextRequest(`${BASE}/api/auth/csrf`, { headers: { cookie } });
  const res = await inRequestScope(req, () => get(req, nextauthContext("csrf")));
  const setCookie = (res.headers.getSetCookie?.() ?? []).map((c) => c.split(";")[0]).join("; ");
  return { token: ((await res.json()) as { csrfToken: string }).csrfToken, cookie: setCookie };
}

/** The credentials callback request signIn("credentials", { redirect: false }) sends. */
export async function credentialsRequest(p: { email: string; password: string; forwardedFor?: string; cookie?: string }) {
  const c = await csrf(p.cookie);
  return new NextRequest(`${BASE}/api/auth/callback/credentials`, {
    method: "POST",
    headers: {
      cookie: [p.cookie, c.cookie].filter(Boolean).join("; "),
      "content-type": "application/x-www-form-urlencoded",
      ...(p.forwardedFor ? { "x-forwarded-for": p.forwardedFor } : {}),
    },
    body: new URLSearchParams({ email: p.email, password: p.password, csrfToken: c.token, json: "true" }),
  });
}

/** Posts the credentials; returns the status and the `error` next-auth reports to the form. */
export async function signInThroughNextAuth(p: { email: string; password: string; forwardedFor?: string }) {
  const req = await credentialsRequest(p);
  const res = await inRequestScope(req, () => post(req, nextauthContext("callback", "credentials")));
  const body = (await res.json()) as { url?: string };
  return { status: res.status, error: body.url ? new URL(body.url).searchParams.get("error") : null };
}
