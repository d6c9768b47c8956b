/**
 * Small measuring helpers the benchmarks share: the median, a process's
 * CPU time and resident memory from /proc, and the load average as the
 * results print it.
 *
 * @module
 */
import { readFileSync } from "node:fs";
import { loadavg } from "node:os";

/** The median (the mean of the middle two for an even count). */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** USER_HZ: 100 on every Linux that weir runs on (`getconf CLK_TCK`). */
const CLOCK_TICKS = 100;

/** utime + stime of a process, all its threads, from /proc/PID/stat (s). */
export function processCpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // Fields after the command (which may hold spaces) in parentheses.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}

/** The 1, 5 and 15 minute load averages, to 2 decimals. */
export function loadAverage(): number[] {
  return loadavg().map((l) => Number(l.toFixed(2)));
}

/** A process's resident memory (VmRSS of /proc/PID/status), MB. */
export function rssMB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const m = /VmRSS:\s+(\d+) kB/.exec(status);
  return m ? Number(m[1]) / 1024 : NaN;
}

/**
 * Each process's CPU over the next `seconds` of wall-clock time, in percent
 * of one core (all its threads).
 */
export async function cpuPercentOver(
  pids: readonly number[],
  seconds: number,
): Promise<number[]> {
  return (await cpuPercentSlices(pids, seconds, seconds)).total;
}

/**
 * {@linkcode cpuPercentOver}, also slice by slice: `slices[s][i]` is
 * process `i`'s share over slice `s` (`sliceSeconds` each, the last one
 * what is left), `total[i]` over the whole `seconds`.
 */
export async function cpuPercentSlices(
  pids: readonly number[],
  seconds: number,
  sliceSeconds: number,
): Promise<{ total: number[]; slices: number[][] }> {
  const first = pids.map(processCpuSeconds);
  const w0 = performance.now();
  const slices: number[][] = [];
  let cpu = first;
  let w = w0;
  for (let done = 0; done < seconds; done += sliceSeconds) {
    const span = Math.min(sliceSeconds, seconds - done);
    await new Promise((resolve) => setTimeout(resolve, span * 1000));
    const now = performance.now();
    const next = pids.map(processCpuSeconds);
    slices.push(next.map((c, i) => (c - cpu[i]) / ((now - w) / 1000) * 100));
    cpu = next;
    w = now;
  }
  const wall = (w - w0) / 1000;
  return { total: cpu.map((c, i) => (c - first[i]) / wall * 100), slices };
}
