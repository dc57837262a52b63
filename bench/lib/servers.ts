// The processes the benchmark starts: a production build of the product (`next start`) and of
// the bench-only signature route (bench/sig-route). Each is built first when its build is
// missing or older than its sources.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import path from "node:path";

export const root = path.resolve(import.meta.dirname, "../..");

function newestMtime(dirs: string[]): number {
  let newest = 0;
  const walk = (p: string) => {
    const st = fs.statSync(p, { throwIfNoEntry: false });
    if (!st) return;
    if (st.isDirectory()) {
      if (/(^|\/)(node_modules|\.next|\.data)$/.test(p)) return;
      for (const e of fs.readdirSync(p)) walk(path.join(p, e));
    } else if (st.mtimeMs > newest) newest = st.mtimeMs;
  };
  dirs.forEach(walk);
  return newest;
}

/** Builds `appDir` unless its .next/BUILD_ID is newer than every file in `sources`. */
export function ensureBuild(appDir: string, sources: string[], env: NodeJS.ProcessEnv, log: (m: string) => void) {
  const buildId = path.join(appDir, ".next/BUILD_ID");
  const built = fs.statSync(buildId, { throwIfNoEntry: false })?.mtimeMs ?? 0;
  if (built > newestMtime(sources.map((s) => path.join(root, s))) && !process.env.BENCH_REBUILD) {
    log(`using the build in ${path.relative(root, appDir) || "."}/.next`);
    return;
  }
  log(`next build ${path.relative(root, appDir) || "."} …`);
  const r = spawnSync(path.join(root, "node_modules/.bin/next"), ["build", appDir], { cwd: root, env, stdio: ["ignore", "pipe", "pipe"], encoding: "utf8" });
  if (r.status !== 0) throw new Error(`next build ${appDir} failed:\n${r.stdout}\n${r.stderr}`);
}

export type Server = { child: ChildProcess; port: number; output(): string; stop(): Promise<void> };

export async function startNext(appDir: string, port: number, env: NodeJS.ProcessEnv, readyPath: string, nodeArgs: string[] = []): Promise<Server> {
  const child = spawn(process.execPath, [...nodeArgs, path.join(root, "node_modules/next/dist/bin/next"), "start", appDir, "--port", String(port)], {
    cwd: root,
    env: { ...env, PORT: String(port), NODE_ENV: "production" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout!.on("data", (d) => (output = (output + d).slice(-4000)));
  child.stderr!.on("data", (d) => (output = (output + d).slice(-4000)));
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`next start ${appDir} exited:\n${output}`);
    try {
      await fetch(`http://127.0.0.1:${port}${readyPath}`, { signal: AbortSignal.timeout(5_000) });
      break;
    } catch {
      if (Date.now() > deadline) throw new Error(`next start ${appDir} did not answer on :${port}:\n${output}`);
      await new Promise((r) => setTimeout(r, 300));
    }
  }
  return {
    child,
    port,
    output: () => output,
    stop: async () => {
      if (child.exitCode !== null) return;
      child.kill("SIGTERM");
      await new Promise((r) => {
        child.once("exit", r);
        setTimeout(r, 5_000).unref();
      });
    },
  };
}
