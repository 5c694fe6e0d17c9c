// Where the machine's CPU goes during a scenario: CPU seconds per process group, read from
// /proc (utime + stime of every process), so a ratio can be explained by who used the cores.
import { readdirSync, readFileSync } from 'node:fs';

const TICKS_PER_SECOND = 100; // USER_HZ on Linux

type Snapshot = Map<number, { name: string; ticks: number }>;

function snapshot(named: Record<string, number>): Snapshot {
  const byPid = new Map(Object.entries(named).map(([name, pid]) => [pid, name]));
  byPid.set(process.pid, 'bench client');
  const result: Snapshot = new Map();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const ticks = Number(fields[11]) + Number(fields[12]); // utime, stime
      const pid = Number(entry);
      const name = byPid.get(pid) ?? (comm === 'postgres' ? 'postgresql' : comm === 'java' ? 'kafka (java)' : comm === 'minio' ? 'minio' : 'other');
      result.set(pid, { name, ticks });
    } catch {
      /* the process ended while we read */
    }
  }
  return result;
}

/** Starts counting; `stop()` gives each group's share of the CPU time used meanwhile, in %. */
export function measureCpu(named: Record<string, number>): { stop: () => Record<string, number> } {
  const before = snapshot(named);
  const started = performance.now();
  return {
    stop() {
      const after = snapshot(named);
      const seconds = (performance.now() - started) / 1000;
      const used = new Map<string, number>();
      for (const [pid, { name, ticks }] of after) used.set(name, (used.get(name) ?? 0) + ticks - (before.get(pid)?.ticks ?? 0));
      const total = [...used.values()].reduce((a, b) => a + b, 0);
      const shares: Record<string, number> = { coresBusy: Math.round((total / TICKS_PER_SECOND / seconds) * 100) / 100 };
      for (const [name, ticks] of [...used].sort((a, b) => b[1] - a[1])) if (ticks > 0) shares[`${name} %`] = Math.round((ticks / total) * 1000) / 10;
      return shares;
    },
  };
}
