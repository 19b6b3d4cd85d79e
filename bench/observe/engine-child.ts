/**
 * One measured run of the observe engine, in its own process so its peak RSS is its own: reads a data set with
 * readObservationsDuckDb, assembles the observed files (nothing is written), and prints one JSON line.
 *
 * Usage: node --import tsx bench/observe/engine-child.ts <data-set dir>[,<more dirs>] [memory limit, e.g. 512MB, or -]
 * The first folder is the data set (the repository root); each folder is read as its *.log.gz, or its *.parquet
 * when it holds a Parquet twin (bench/observe/parquet.ts).
 */
import { join, resolve } from 'node:path';
import { assembleObserved, sourceStats } from '../../observe/assemble.js';
import { awsServiceLookup } from '../../observe/aws-ranges.js';
import { openDuckDb } from '../../observe/duckdb-session.js';
import { readObservationsDuckDb, windowEnding } from '../../observe/observe.js';
import { dataSetArg, measured, type ChildUsage } from './child.js';
import { benchEnvironment, WINDOW_DAYS, WINDOW_TO } from './generate.js';

export interface EngineResult extends ChildUsage {
  /** Records observe counted in the window (source.records). */
  records: number;
  /** Files read (after those outside the window were left out). */
  files: number;
  egress: number;
  rejected: number;
  duckdb: string;
}

async function main(): Promise<void> {
  const dirs = dataSetArg('engine-child.ts')
    .split(',')
    .map((d) => resolve(d));
  const dir = dirs[0]!;
  const base = benchEnvironment(dirs.map((d) => join(d, d.endsWith('-parquet') ? '*.parquet' : '*.log.gz')));
  // A second argument is flowLogs.memoryLimit (the bench's capped run).
  const memoryLimit = process.argv[3] === '-' ? undefined : process.argv[3];
  const config = memoryLimit ? { ...base, flowLogs: { ...base.flowLogs, memoryLimit } } : base;
  const window = windowEnding(WINDOW_TO, WINDOW_DAYS);
  const { value, usage } = await measured(async () => {
    const obs = await readObservationsDuckDb({ root: dir, environmentFile: join(dir, 'environment.yaml'), config, window });
    const files = assembleObserved({
      environment: config.environment,
      workloads: Object.keys(config.workloads),
      window,
      retainDays: config.window.retainDays,
      rows: obs.rows,
      engine: 'duckdb',
      previous: new Map(),
      serviceOf: awsServiceLookup(config.region),
    });
    return { obs, files };
  });

  const duck = await openDuckDb();
  const { connection } = duck;
  const version = String((await connection.runAndReadAll('SELECT version()')).getRows()[0]?.[0]);
  duck.close();

  const all = [...value.files.values()];
  const result: EngineResult = {
    ...usage,
    records: sourceStats(value.obs.rows, 'duckdb').records,
    files: value.obs.files,
    egress: all.reduce((n, o) => n + o.egress.length, 0),
    rejected: all.reduce((n, o) => n + o.rejected.length, 0),
    duckdb: version,
  };
  console.log(JSON.stringify(result));
}

await main();
