/** What a measured child process (engine-child.ts, floor-child.ts) reports about its own work. */

export interface ChildUsage {
  /** Wall seconds of the measured work (process start and module loading are not counted). */
  seconds: number;
  /** User + system CPU seconds of this process over the same span: DuckDB's threads and Node's thread pool included. */
  cpuSeconds: number;
  /** Peak resident set of this process, KiB. */
  maxRssKiB: number;
}

/** Runs `work` and returns its result with the time, CPU and peak RSS it took. */
export async function measured<T>(work: () => Promise<T>): Promise<{ value: T; usage: ChildUsage }> {
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const value = await work();
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(c0);
  return { value, usage: { seconds, cpuSeconds: (cpu.user + cpu.system) / 1e6, maxRssKiB: process.resourceUsage().maxRSS } };
}

/** The directory argument of a child, or a usage error naming the script. */
export function dataSetArg(script: string): string {
  const arg = process.argv[2];
  if (!arg) throw new Error(`usage: ${script} <data-set dir>`);
  return arg;
}
