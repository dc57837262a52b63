// HTTP load for the benchmark: a fixed list of requests posted by `senders` concurrent loops over
// keep-alive connections (one socket per sender). Latency is request start → last byte.
import http from "node:http";
import { performance } from "node:perf_hooks";

export type Req = { path: string; body?: string; headers?: Record<string, string>; method?: "GET" | "POST" };
export type LoadResult = { n: number; seconds: number; rate: number; p50: number; p99: number; statuses: Record<number, number>; latencies: number[] };

export function percentile(xs: number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}

export function send(agent: http.Agent, port: number, req: Req): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const r = http.request(
      {
        host: "127.0.0.1",
        port,
        path: req.path,
        method: req.method ?? "POST",
        agent,
        headers: {
          ...(req.body !== undefined ? { "content-type": "application/json", "content-length": String(Buffer.byteLength(req.body)) } : {}),
          ...req.headers,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }));
        res.on("error", reject);
      },
    );
    r.on("error", reject);
    if (req.body !== undefined) r.write(req.body);
    r.end();
  });
}

/**
 * Posts `reqs` from `senders` concurrent loops and times each request. With `prime`, every
 * sender first sends that request once, untimed, so the timed requests run on open keep-alive
 * connections: without it each run's first request per sender also pays for opening its
 * connection, all senders at once. `settleMs` then waits before timing starts, so what the
 * previous case left running (a server's garbage collection, the database's background writes)
 * does not land on this one.
 */
export async function load(port: number, reqs: Req[], senders: number, opts: { prime?: Req; settleMs?: number } = {}): Promise<LoadResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: senders });
  const latencies: number[] = [];
  const statuses: Record<number, number> = {};
  let i = 0;
  if (opts.prime) await Promise.all(Array.from({ length: senders }, () => send(agent, port, opts.prime!)));
  if (opts.settleMs) await new Promise((r) => setTimeout(r, opts.settleMs));
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: senders }, async () => {
      while (i < reqs.length) {
        const req = reqs[i++]!;
        const t = performance.now();
        const { status } = await send(agent, port, req);
        latencies.push(performance.now() - t);
        statuses[status] = (statuses[status] ?? 0) + 1;
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  agent.destroy();
  return summarise([{ n: reqs.length, seconds, latencies, statuses }]);
}

/** One result from several runs of the same case (e.g. interleaved with other cases). */
export function summarise(parts: Pick<LoadResult, "n" | "seconds" | "latencies" | "statuses">[]): LoadResult {
  const n = parts.reduce((a, p) => a + p.n, 0);
  const seconds = parts.reduce((a, p) => a + p.seconds, 0);
  const latencies = parts.flatMap((p) => p.latencies);
  const statuses: Record<number, number> = {};
  for (const p of parts) for (const [k, v] of Object.entries(p.statuses)) statuses[Number(k)] = (statuses[Number(k)] ?? 0) + v;
  return { n, seconds, rate: n / seconds, p50: percentile(latencies, 50), p99: percentile(latencies, 99), statuses, latencies };
}

export function assertAll(result: LoadResult, status: number, what: string) {
  const bad = Object.entries(result.statuses).filter(([s]) => Number(s) !== status);
  if (bad.length) throw new Error(`${what}: expected every answer to be ${status}, got ${JSON.stringify(result.statuses)}`);
}
