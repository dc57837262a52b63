// A request body that arrives lazily, for the body-size caps (lib/http/read-capped.ts): the
// delivery API, the Stripe webhook and the sign-in route. It counts what the reader pulled, so a
// test can show the rest was never read.
/** A body that streams `total` bytes lazily, `chunkBytes` per pull, and records how much was pulled. */
export function streamedBody(total: number, chunkBytes = 4096) {
  const chunk = new Uint8Array(chunkBytes).fill(0x20);
  let sent = 0;
  let cancelled = false;
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent >= total) return controller.close();
      const n = Math.min(chunk.length, total - sent);
      sent += n;
      controller.enqueue(chunk.subarray(0, n));
    },
    cancel() {
      cancelled = true;
    },
  });
  return { stream, pulled: () => sent, cancelled: () => cancelled };
}
