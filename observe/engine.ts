/**
 * The flow-log engine that observe and report share: one lifecycle (open, resolve the files, read them with the
 * checks, run the query, close) for DuckDB and for Athena. A caller renders its query for the relation the engine
 * names (the `flow_logs` view, or the Athena table) and decodes the rows by kind; on DuckDB it may read on over the
 * open session (observe's malformed lines) before the engine closes it.
 */
import type { AthenaClient } from '@aws-sdk/client-athena';
import type { DuckDBConnection } from '@duckdb/node-api';
import { dirname, join } from 'node:path';
import type { Progress } from '../core/progress.js';
import type { YamlSource } from '../core/yaml-source.js';
import type { Engine, EnvironmentPolicies } from '../model/types.js';
import { readFlowLogs, type UnknownFields } from './duckdb-checks.js';
import { flowLogsTimeBound, openDuckDb, query, withTimeBound, type TimeBound } from './duckdb-session.js';
import { resolveFiles } from './duckdb-view.js';
import { filesForRange, type ScanRange } from './prune.js';
import { trackAthena, trackFiles } from './progress.js';
import { countFileLines, flowLogsFor, type EngineFlowLogs, type FlowLogFile } from './sources.js';
import type { RenderedQuery } from './sql.js';

/** An environment's flow logs as an engine reads them, and where they are configured. */
export interface FlowLogSource {
  root: string;
  /** The folder of environment.yaml: flowLogs.files are relative to it. */
  baseDir: string;
  /** environment.yaml as read: its file names the settings, its positions a pattern that matches nothing. */
  environment?: YamlSource | undefined;
  flowLogs: EngineFlowLogs;
  /** The environment's region: the default Athena client's. */
  region?: string;
  /** The Athena client (tests pass a mocked one); default: one for `region`. */
  athenaClient?: AthenaClient | undefined;
  /** The seconds the query scans: DuckDB leaves out the files whose delivery day lies outside them (prune.ts). */
  scan?: ScanRange | undefined;
}

/** An environment's flow logs for `engine` (default its flowLogs.engine; flowLogsFor checks that the engine can read them). */
export function environmentFlowLogs(
  root: string,
  environment: EnvironmentPolicies,
  engine?: Engine,
  athenaClient?: AthenaClient,
): FlowLogSource {
  const source = environment.environment.source;
  return {
    root,
    baseDir: dirname(join(root, source.file)),
    environment: source,
    flowLogs: flowLogsFor(environment, engine),
    region: environment.environment.value.region,
    athenaClient,
  };
}

/** A query over the flow logs: its SQL for a relation, and the decoder of its rows. */
export interface FlowLogQuery<R> {
  render(relation: string): RenderedQuery;
  /** The window's first second: the DuckDB view dates a malformed line at it, so that the query counts it. */
  countFrom: number;
  /** One row (DuckDB values or Athena strings) as the caller's row. */
  decode(row: Record<string, unknown>): R;
}

/** A query's decoded rows, and what the DuckDB read had to say about the files. */
export interface FlowLogRows<R> {
  rows: R[];
  /** Why DuckDB's parallel CSV scan failed, when the files had to be read again without it. */
  fallback?: string;
  /** Header fields leastpath does not know, read past. */
  unknownFields?: UnknownFields;
}

interface Reader {
  read<R>(q: FlowLogQuery<R>): Promise<FlowLogRows<R>>;
}

/** An open engine. DuckDB also hands out its session, files and time bound, for reads that follow the query. */
export type OpenFlowLogs =
  (Reader & { engine: 'duckdb'; connection: DuckDBConnection; files: FlowLogFile[]; bound: TimeBound }) | (Reader & { engine: 'athena' });

/** Where the progress of a read goes, and the label it carries (`observe dev`). */
export interface FlowLogProgress {
  progress?: Progress | undefined;
  label: string;
}

/** The time bound of the engine's queries: flowLogs.maxSeconds, named in environment.yaml. */
function boundOf(source: FlowLogSource): TimeBound {
  return flowLogsTimeBound(source.flowLogs.maxSeconds, source.environment?.file ?? 'environment.yaml');
}

/** Opens the source's engine, gives it to `use`, and closes it whatever `use` does. */
export async function withFlowLogs<T>(source: FlowLogSource, shown: FlowLogProgress, use: (logs: OpenFlowLogs) => Promise<T>): Promise<T> {
  return source.flowLogs.engine === 'athena' ? use(athenaEngine(source, source.flowLogs, shown)) : withDuckDb(source, shown, use);
}

/** DuckDB: the files resolved, each query read with the checks (readFlowLogs) under flowLogs.maxSeconds. */
async function withDuckDb<T>(source: FlowLogSource, shown: FlowLogProgress, use: (logs: OpenFlowLogs) => Promise<T>): Promise<T> {
  const track = trackFiles(shown.progress, shown.label);
  let ok = false;
  // The progress timer stops however the read ends, a database that would not open included.
  try {
    const duck = await openDuckDb({ memoryLimit: source.flowLogs.memoryLimit });
    const { connection } = duck;
    try {
      const matched = await resolveFiles(connection, source.flowLogs.files, source.baseDir, source.root, source.environment);
      const files = source.scan ? await filesForRange(matched, source.scan, connection) : matched;
      const bound = boundOf(source);
      track.onFiles(files.length);
      const value = await use({
        engine: 'duckdb',
        connection,
        files,
        bound,
        async read<R>(q: FlowLogQuery<R>): Promise<FlowLogRows<R>> {
          const { sql, params } = q.render('flow_logs');
          const counting = countFileLines(files, 2, track.onFileCounted);
          const run = () => withTimeBound(connection, bound, () => query(connection, sql, params));
          const { value: raw, fallback, unknownFields } = await readFlowLogs(connection, files, q.countFrom, run, counting);
          return {
            rows: raw.map((r) => q.decode(r)),
            ...(fallback !== undefined ? { fallback } : {}),
            ...(unknownFields ? { unknownFields } : {}),
          };
        },
      });
      ok = true;
      return value;
    } finally {
      duck.close();
    }
  } finally {
    track.finish(ok);
  }
}

/** Athena: the query on the table, its values as ExecutionParameters, stopped past the time and bytes bounds. */
function athenaEngine(source: FlowLogSource, flowLogs: EngineFlowLogs & { engine: 'athena' }, shown: FlowLogProgress): OpenFlowLogs {
  const { athena } = flowLogs;
  return {
    engine: 'athena',
    async read<R>(q: FlowLogQuery<R>): Promise<FlowLogRows<R>> {
      const sdk = await import('@aws-sdk/client-athena');
      const { runAthenaQuery } = await import('./athena.js');
      const { sql, params } = q.render(`${athena.database}.${athena.table}`);
      const bound = boundOf(source);
      const track = trackAthena(shown.progress, shown.label);
      const rows = await runAthenaQuery({
        client: source.athenaClient ?? new sdk.AthenaClient({ ...(source.region !== undefined ? { region: source.region } : {}) }),
        config: athena,
        sql,
        params,
        timeoutMs: bound.seconds * 1000,
        timeoutSetting: bound.setting,
        ...(source.environment ? { configFile: source.environment.file } : {}),
        onPoll: track.onPoll,
      });
      track.finish();
      return { rows: rows.map((r) => q.decode(r)) };
    },
  };
}
