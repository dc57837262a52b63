// next-auth's routes. Its POST handler reads a form body whole (request.text()) on a route open to
// anyone, so the body is read here first with a cap (lib/http/read-capped.ts: a chunked body
// without Content-Length is cut off at the cap, the rest unread) and handed on as a new request.
import NextAuth from "next-auth";
import { NextRequest } from "next/server";
import { authOptions } from "@/lib/auth/options";
import { AUTH_MAX_BODY_BYTES } from "@/lib/auth/body-limit";
import { declaredOver, readBodyCapped } from "@/lib/http/read-capped";

const handler = NextAuth(authOptions);

const tooLarge = () => Response.json({ error: `payload too large (limit ${AUTH_MAX_BODY_BYTES} bytes)` }, { status: 413 });

async function POST(request: NextRequest, context: { params: Promise<{ nextauth: string[] }> }): Promise<Response> {
  if (declaredOver(request, AUTH_MAX_BODY_BYTES)) {
    await request.body?.cancel().catch(() => {});
    return tooLarge();
  }
  const bytes = await readBodyCapped(request, AUTH_MAX_BODY_BYTES);
  if (bytes === null) return tooLarge();
  const capped = new NextRequest(request.url, { method: request.method, headers: request.headers, body: bytes.length > 0 ? new Uint8Array(bytes) : null });
  return handler(capped, context);
}

export { handler as GET, POST };
