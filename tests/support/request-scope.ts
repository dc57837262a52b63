// Lets route handlers that read next/headers (next-auth's) run in vitest, where there is no Next
// request scope: headers() and cookies() answer from the Request being handled. Test-only; the
// app itself never touches this.
import { createRequire } from "node:module";

const nodeRequire = createRequire(import.meta.url);
// The same CJS module object next-auth gets from its own require("next/headers").
const nextHeaders = nodeRequire("next/headers") as Record<string, unknown>;

let current: Request | null = null;

function cookieList(req: Request | null) {
  const raw = req?.headers.get("cookie") ?? "";
  return raw
    .split(";")
    .map((p) => p.trim())
    .filter(Boolean)
    .map((p) => {
      const i = p.indexOf("=");
      return { name: decodeURIComponent(p.slice(0, i)), value: decodeURIComponent(p.slice(i + 1)) };
    });
}

nextHeaders.headers = async () => new Headers(current?.headers);
nextHeaders.cookies = async () => {
  const list = cookieList(current);
  return { getAll: () => list, get: (name: string) => list.find((c) => c.name === name) };
};

export async function inRequestScope<T>(req: Request, fn: () => Promise<T>): Promise<T> {
  current = req;
  try {
    return await fn();
  } finally {
    current = null;
  }
}
