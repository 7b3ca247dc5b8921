/** Small helpers shared by the benchmarks. */

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/**
 * Runs `workers` loops of `step(worker, iteration)` until `seconds` pass, and
 * returns the seconds it actually took (the last steps finish after the deadline).
 */
export async function runFor(seconds: number, workers: number, step: (worker: number, iteration: number) => Promise<void>): Promise<number> {
  const start = performance.now();
  const deadline = start + seconds * 1000;
  await Promise.all(
    Array.from({ length: workers }, async (_, w) => {
      for (let i = 0; performance.now() < deadline; i++) await step(w, i);
    }),
  );
  return (performance.now() - start) / 1000;
}

export function parseArgs(argv: string[]) {
  const value = (name: string): string | undefined => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  return {
    flag: (name: string) => argv.includes(`--${name}`),
    string: (name: string): string | undefined => value(name),
    number(name: string, fallback: number): number {
      const v = value(name);
      if (v === undefined) return fallback;
      const n = Number(v);
      if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} needs a positive number, not '${v}'`);
      return n;
    },
    list(name: string, fallback: number[]): number[] {
      const v = value(name);
      return v === undefined ? fallback : v.split(',').map(Number);
    },
  };
}

/** CPU milliseconds a process has used so far (this process, or another one by pid from /proc). */
export function cpuMs(pid?: number): number {
  if (pid === undefined) {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1000;
  }
  // /proc/<pid>/stat: fields 14 and 15 are utime and stime in clock ticks (100 per second on Linux).
  const fields = require('node:fs').readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** CPU used by each process during `work`. */
export async function measureCpu<T>(pids: Record<string, number | undefined>, work: () => Promise<T>): Promise<{ result: T; cpuMs: Record<string, number> }> {
  const before = Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, cpuMs(pid)]));
  const result = await work();
  return { result, cpuMs: Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, cpuMs(pid) - before[k]!])) };
}
