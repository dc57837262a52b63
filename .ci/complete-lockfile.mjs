// The npm registry mirror this project is built on serves only some platforms' binary
// packages (no darwin/win32/android/… builds of @next/swc, rollup, tailwind's oxide). `npm
// install` then leaves those optional dependencies out of package-lock.json, and `npm ci`
// refuses the lock as "missing" them. This adds lock entries for every optional platform
// package a locked package names but the lock lacks, with os/cpu/libc from the package name,
// so `npm ci` skips them on this platform exactly as it would with a complete lock.
// Run after `npm install` changes the lock:  node .ci/complete-lockfile.mjs
import fs from "node:fs";

const file = new URL("../package-lock.json", import.meta.url);
const lock = JSON.parse(fs.readFileSync(file, "utf8"));
const pkgs = lock.packages;

function platformOf(name) {
  const tail = name.split("/").pop();
  const os = ["darwin", "win32", "linux", "freebsd", "openbsd", "android", "openharmony", "sunos", "aix", "netbsd"].find((o) => tail.includes(`-${o}-`) || tail.endsWith(`-${o}`));
  const cpuMap = [["arm64", "arm64"], ["x64", "x64"], ["ia32", "ia32"], ["loong64", "loong64"], ["ppc64", "ppc64"], ["riscv64", "riscv64"], ["s390x", "s390x"], ["wasm32", "wasm32"], ["arm", "arm"]];
  const parts = tail.split("-");
  const cpu = cpuMap.find(([k]) => parts.includes(k))?.[1];
  const libc = tail.includes("musl") ? "musl" : tail.includes("-gnu") ? "glibc" : undefined;
  return { os, cpu, libc };
}

let added = 0;
for (const [path, entry] of Object.entries(pkgs)) {
  for (const [dep, range] of Object.entries(entry.optionalDependencies ?? {})) {
    const base = path ? `${path}/node_modules/` : "node_modules/";
    if (pkgs[`${base}${dep}`] || pkgs[`node_modules/${dep}`]) continue;
    const { os, cpu, libc } = platformOf(dep);
    if (!cpu && !os) continue; // not a platform binary package: leave it to npm
    pkgs[`node_modules/${dep}`] = {
      version: range.replace(/^[\^~=]/, ""),
      ...(entry.dev ? { dev: true } : {}),
      optional: true,
      ...(cpu ? { cpu: [cpu] } : {}),
      ...(libc ? { libc: [libc] } : {}),
      ...(os ? { os: [os] } : {}),
    };
    added++;
  }
}
lock.packages = Object.fromEntries(Object.entries(pkgs).sort(([a], [b]) => (a === "" ? -1 : b === "" ? 1 : a.localeCompare(b))));
fs.writeFileSync(file, JSON.stringify(lock, null, 2) + "\n");
console.log(`complete-lockfile: added ${added} optional platform entries`);
