/**
 * Runs an accepted, parameterised query read-only on the environment's engine.
 *
 * DuckDB: the flow-log files become observe's `flow_logs` view, and a temporary view named like the environment's
 * table selects exactly the columns of ask/schema.ts from it, without malformed lines. Then the session is
 * closed around those files: `allowed_paths` lists them, `enable_external_access = false` forbids every other
 * file, directory, URL, ATTACH, COPY and extension, and `lock_configuration = true` forbids changing that back.
 * So even a query that got past the validator reads nothing but the flow logs, and none runs past its time bound
 * (ask.yaml maxSeconds: interrupted). Athena: observe's thin runner, the values as ExecutionParameters, stopped past
 * the same bound or flowLogs.athena.maxBytesScanned; run it with a read-only role (README "Athena").
 */
import type { AthenaClient } from '@aws-sdk/client-athena';
import { BIGINT, DOUBLE, INTEGER, VARCHAR, type DuckDBConnection, type DuckDBType } from '@duckdb/node-api';
import { LeastpathError, UsageError } from '../core/errors.js';
import type { YamlSource } from '../core/yaml-source.js';
import type { AthenaConfig } from '../model/types.js';
import { openDuckDb, withTimeBound, type TimeBound } from '../observe/duckdb-session.js';
import { createFlowLogsView, resolveFiles, sqlString } from '../observe/duckdb-view.js';
import { dnsViewSql, resolveDnsFiles } from '../observe/dns-read.js';
import type { FlowLogFile } from '../observe/sources.js';
import type { SqlParam } from '../observe/sql.js';
import type { ParamType } from './params.js';
import { FLOW_LOG_COLUMNS } from './schema.js';

export type Cell = string | number | boolean | null;

export interface QueryResult {
  columns: string[];
  rows: Cell[][];
}

export interface ReadOnlySession {
  /**
   * Runs one statement with `?` or `$n` parameters, typed as `types` says (default: as their literals would be),
   * interrupted past the session's time bound.
   */
  run(sql: string, params: readonly SqlParam[], types?: readonly ParamType[]): Promise<QueryResult>;
  close(): void;
}

/** ask.yaml maxSeconds when it sets none: long enough for a question over weeks of logs, short of a runaway join. */
export const DEFAULT_ASK_MAX_SECONDS = 120;

interface FlowLogSource {
  /** flowLogs.files as written. */
  patterns: readonly string[];
  /** The folder of environment.yaml, which the patterns are relative to. */
  baseDir: string;
  root: string;
  /** flowLogs.memoryLimit, when the environment sets one. */
  memoryLimit?: string | undefined;
  /** environment.yaml as read, to point at a pattern that matches nothing. */
  environment?: YamlSource;
  /** The time bound of each query (ask.yaml maxSeconds); undefined: none (tests of the session alone). */
  bound?: TimeBound | undefined;
  /** Route 53 Resolver query logs (dnsLogs.files) instead of flow logs. */
  logs?: 'flow' | 'dns';
}

/** Functions the validator allows that DuckDB names otherwise (the prompt asks for the Athena dialect). */
const TRINO_MACROS = [
  'from_unixtime(s) AS to_timestamp(s)',
  'to_unixtime(t) AS epoch(t)',
  'approx_distinct(x) AS approx_count_distinct(x)',
];

/** A DuckDB session where `table` is the environment's flow logs and no other file can be read. */
export async function openReadOnlySession(source: FlowLogSource, table: string): Promise<ReadOnlySession> {
  if (table.toLowerCase() === 'flow_logs')
    throw new UsageError(
      'the duckdb engine reads the files through its own view flow_logs: name the table otherwise (flowLogs.athena.table)',
    );
  const duck = await openDuckDb({ memoryLimit: source.memoryLimit });
  const { connection } = duck;
  const close = duck.close;
  try {
    let files: { path: string }[];
    if (source.logs === 'dns') {
      files = await resolveDnsFiles(connection, source.patterns, source.baseDir, source.root, source.environment);
      await connection.run(`CREATE TEMP VIEW "${table.replace(/"/g, '""')}" AS ${dnsViewSql(files.map((f) => sqlString(f.path)))}`);
    } else {
      files = await resolveFiles(connection, source.patterns, source.baseDir, source.root, source.environment);
      await createFlowLogsView(connection, files as FlowLogFile[]);
      const columns = FLOW_LOG_COLUMNS.map((c) => `"${c.name}"`);
      await connection.run(
        `CREATE TEMP VIEW "${table.replace(/"/g, '""')}" AS SELECT ${columns.join(', ')} FROM flow_logs ` +
          `WHERE log_status IS NULL OR NOT starts_with(log_status, 'MALFORMED:')`,
      );
    }
    for (const macro of TRINO_MACROS) await connection.run(`CREATE TEMP MACRO ${macro}`);
    // Athena's time zone, and the day column's: from_unixtime, date_trunc and current_date answer alike on every machine.
    await connection.run("SET TimeZone = 'UTC'");
    await connection.run(`SET allowed_paths = [${files.map((f) => sqlString(f.path)).join(', ')}]`);
    await connection.run('SET enable_external_access = false');
    await connection.run('SET lock_configuration = true');
  } catch (err) {
    close();
    throw err;
  }
  return { run: (sql, params, types) => withTimeBound(connection, source.bound, () => runDuckDb(connection, sql, params, types)), close };
}

/**
 * Parameters typed as their literals would be: whole numbers INTEGER (BIGINT beyond 32 bits), so that
 * `substr(x, ?, ?)` binds like `substr(x, 1, 3)`; other numbers DOUBLE; strings VARCHAR.
 */
function paramType(v: SqlParam): DuckDBType {
  if (typeof v === 'string') return VARCHAR;
  if (!Number.isInteger(v)) return DOUBLE;
  return v >= -(2 ** 31) && v < 2 ** 31 ? INTEGER : BIGINT;
}

const DUCKDB_TYPES: Record<ParamType, DuckDBType> = { VARCHAR, INTEGER, BIGINT, DOUBLE };

async function runDuckDb(
  connection: DuckDBConnection,
  sql: string,
  params: readonly SqlParam[],
  types?: readonly ParamType[],
): Promise<QueryResult> {
  let reader;
  try {
    reader = await connection.runAndReadAll(sql, [...params], types ? types.map((t) => DUCKDB_TYPES[t]) : params.map(paramType));
  } catch (err) {
    throw new LeastpathError(`the query failed on duckdb: ${String((err as Error).message).split('\n')[0]}`);
  }
  // DuckDB names a column without alias by its text, `$1` for a parameter: show the value, as the query had it.
  const literal = (i: string) => {
    const v = params[Number(i) - 1];
    return v === undefined ? `$${i}` : typeof v === 'string' ? `'${v.replace(/'/g, "''")}'` : String(v);
  };
  const columns = reader.columnNames().map((c) => c.replace(/\$(\d+)/g, (_m, i: string) => literal(i)));
  return { columns, rows: reader.getRowsJS().map((r) => r.map(cell)) };
}

/** A DuckDB value as JSON can carry it: big integers as numbers while exact, else as text. */
function cell(v: unknown): Cell {
  if (v === null || v === undefined) return null;
  if (typeof v === 'bigint') return Number.isSafeInteger(Number(v)) ? Number(v) : v.toString();
  if (typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean') return v;
  if (v instanceof Date) return v.toISOString();
  return String(v);
}

/** Runs the query once over the environment's files (engine duckdb). */
export async function runOnDuckDb(
  source: FlowLogSource,
  table: string,
  sql: string,
  params: readonly SqlParam[],
  types?: readonly ParamType[],
): Promise<QueryResult> {
  const session = await openReadOnlySession(source, table);
  try {
    return await session.run(sql, params, types);
  } finally {
    session.close();
  }
}

/** Where and how long an Athena query of ask runs. */
interface AthenaTarget {
  athena: AthenaConfig;
  /** The environment's region. */
  region: string;
  /** environment.yaml, named when the bytes cutoff stops the query. */
  configFile: string;
  bound: TimeBound;
}

/**
 * Runs the query on Athena (engine athena; `athena` checked by flowLogsFor): values as ExecutionParameters, written
 * as `literals` (numbers as the query wrote them); stopped past the time bound and flowLogs.athena.maxBytesScanned.
 * Every value comes back as text.
 */
export async function runOnAthena(
  target: AthenaTarget,
  sql: string,
  params: readonly SqlParam[],
  literals?: readonly string[],
  client?: AthenaClient,
): Promise<QueryResult> {
  const { AthenaClient: Client } = await import('@aws-sdk/client-athena');
  const { runAthenaQuery } = await import('../observe/athena.js');
  const rows = await runAthenaQuery({
    client: client ?? new Client({ region: target.region }),
    config: target.athena,
    sql,
    params,
    ...(literals ? { literals } : {}),
    timeoutMs: target.bound.seconds * 1000,
    timeoutSetting: target.bound.setting,
    configFile: target.configFile,
  });
  const columns = rows[0] ? Object.keys(rows[0]) : [];
  return { columns, rows: rows.map((r) => columns.map((c) => r[c] ?? null)) };
}
