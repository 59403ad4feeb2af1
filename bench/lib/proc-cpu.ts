import { readdirSync, readFileSync } from 'node:fs';

const TICKS_PER_SECOND = 100; // USER_HZ on Linux

interface ProcStat {
  readonly ppid: number;
  /** utime + stime of the process itself, in ms. */
  readonly ownMs: number;
  /** cutime + cstime: its children that have exited and been waited for, in ms. */
  readonly reapedChildrenMs: number;
}

function readStat(pid: number): ProcStat | undefined {
  try {
    // Fields after the parenthesised command name: state, ppid, ... utime is the 12th.
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    const ms = (index: number) => (Number(fields[index]) * 1000) / TICKS_PER_SECOND;
    return {
      ppid: Number(fields[1]),
      ownMs: ms(11) + ms(12),
      reapedChildrenMs: ms(13) + ms(14),
    };
  } catch {
    return undefined;
  }
}

/** CPU time (user + system, all threads) this process has used so far, in ms. */
export function ownCpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

/** CPU time (user + system, all threads) a live process has used so far, in ms. */
export function readProcessCpuMs(pid: number): number {
  return readStat(pid)?.ownMs ?? Number.NaN;
}

/**
 * CPU time of a process and all its descendants, live or exited (e.g. the PostgreSQL postmaster
 * and its backends), in ms. Differences of two readings give the CPU a phase cost.
 */
export function readProcessTreeCpuMs(rootPid: number): number {
  const stats = new Map<number, ProcStat>();
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid)) continue;
    const stat = readStat(pid);
    if (stat) stats.set(pid, stat);
  }
  const root = stats.get(rootPid);
  if (!root) return Number.NaN;
  let total = root.ownMs + root.reapedChildrenMs;
  const inTree = new Set([rootPid]);
  // Parents come before children in no particular order: repeat until nothing is added.
  for (let added = true; added; ) {
    added = false;
    for (const [pid, stat] of stats) {
      if (!inTree.has(pid) && inTree.has(stat.ppid)) {
        inTree.add(pid);
        total += stat.ownMs + stat.reapedChildrenMs;
        added = true;
      }
    }
  }
  return total;
}
