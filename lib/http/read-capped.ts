// Reading a request body with a byte cap. Content-Length is optional (a chunked request has
// none) and may lie, so it can only refuse early; the cap itself is enforced while streaming:
// we stop as soon as the body passes the limit and cancel the rest, never buffering more than
// the limit plus one chunk. request.text() / arrayBuffer() would buffer the whole body first.

/** The body's bytes, or null as soon as they exceed `limit` (the rest is cancelled, not read). */
export async function readBodyCapped(request: Request, limit: number): Promise<Buffer | null> {
  if (!request.body) return Buffer.alloc(0);
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => {});
      return null;
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks);
}

/** Whether the declared Content-Length already exceeds `limit` (absent or malformed: no). */
export function declaredOver(request: Request, limit: number): boolean {
  const declared = Number(request.headers.get("content-length") ?? "");
  return Number.isFinite(declared) && declared > limit;
}
