/**
 * One measured run of the observe engine, in its own process so its peak RSS is its own: reads a data set with
 * readObservationsDuckDb, assembles the observed files (nothing is written), and prints one JSON line.
 *
 * Usage: node --import tsx bench/observe/engine-child.ts <data-set dir>
 */
import { join, resolve } from 'node:path';
import { assembleObserved, sourceStats } from '../../observe/assemble.js';
import { awsServiceLookup } from '../../observe/aws-ranges.js';
import { openDuckDb } from '../../observe/duckdb.js';
import { readObservationsDuckDb, windowEnding } from '../../observe/observe.js';
import { benchEnvironment, WINDOW_DAYS, WINDOW_TO } from './generate.js';

export interface EngineResult {
  seconds: number;
  /** User + system CPU seconds of this process over the same span: DuckDB's threads and Node's thread pool included. */
  cpuSeconds: number;
  /** Peak resident set of this process, KiB. */
  maxRssKiB: number;
  /** Records observe counted in the window (source.records). */
  records: number;
  egress: number;
  rejected: number;
  duckdb: string;
}

async function main(): Promise<void> {
  const arg = process.argv[2];
  if (!arg) throw new Error('usage: engine-child.ts <data-set dir>');
  const dir = resolve(arg);
  const config = benchEnvironment([join(dir, '*.log.gz')]);
  const window = windowEnding(WINDOW_TO, WINDOW_DAYS);
  // Only the engine's work is timed: process start and module loading are the same for every run and size.
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const obs = await readObservationsDuckDb({ root: dir, environmentFile: join(dir, 'environment.yaml'), config, window });
  const files = assembleObserved({
    environment: config.environment, workloads: Object.keys(config.workloads), window, retainDays: config.window.retainDays,
    rows: obs.rows, engine: 'duckdb', previous: new Map(), serviceOf: awsServiceLookup(config.region),
  });
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(c0);
  const maxRssKiB = process.resourceUsage().maxRSS;

  const { instance, connection } = await openDuckDb();
  const version = String((await connection.runAndReadAll('SELECT version()')).getRows()[0]?.[0]);
  connection.closeSync();
  instance.closeSync();

  const all = [...files.values()];
  const result: EngineResult = {
    seconds,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    maxRssKiB,
    records: sourceStats(obs.rows, 'duckdb').records,
    egress: all.reduce((n, o) => n + o.egress.length, 0),
    rejected: all.reduce((n, o) => n + o.rejected.length, 0),
    duckdb: version,
  };
  console.log(JSON.stringify(result));
}

await main();
