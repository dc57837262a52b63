// CPU time (user + system) spent by process trees, read from /proc (Linux): where an event's cost
// goes — the Next server, PostgreSQL (postmaster and every backend, including backends that
// have exited, through the parent's cutime/cstime) and the load generator (this process).
// On a machine whose cores are saturated, throughput follows CPU per event, so this is the
// profile that explains the throughput ratios.
import fs from "node:fs";

const TICKS_PER_SECOND = 100; // USER_HZ on Linux

type Stat = { pid: number; ppid: number; ticks: number; childTicks: number };

function readStat(pid: number): Stat | null {
  let raw: string;
  try {
    raw = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return null;
  }
  // The command name is in parentheses and may contain spaces: fields start after the last ')'.
  const f = raw.slice(raw.lastIndexOf(")") + 2).split(" ");
  // f[0] = state (field 3), so field N is f[N - 3].
  const n = (field: number) => Number(f[field - 3]);
  return { pid, ppid: n(4), ticks: n(14) + n(15), childTicks: n(16) + n(17) };
}

/** CPU milliseconds used so far by `root` and all its live descendants, plus their reaped children. */
export function treeCpuMs(root: number): number {
  const all: Stat[] = [];
  for (const name of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    const s = readStat(Number(name));
    if (s) all.push(s);
  }
  const inTree = new Set<number>([root]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const s of all) {
      if (!inTree.has(s.pid) && inTree.has(s.ppid)) {
        inTree.add(s.pid);
        grew = true;
      }
    }
  }
  let ticks = 0;
  for (const s of all) if (inTree.has(s.pid)) ticks += s.ticks + s.childTicks;
  return (ticks * 1000) / TICKS_PER_SECOND;
}

/** This process's CPU milliseconds so far (the load generator runs here). */
export function selfCpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/** The postmaster's pid of a data directory (first line of postmaster.pid), or null. */
export function postmasterPid(dataDir: string): number | null {
  try {
    const pid = Number(fs.readFileSync(`${dataDir}/postmaster.pid`, "utf8").split("\n")[0]);
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}
