/**
 * The Athena engine, kept thin: StartQueryExecution with the observe SQL and its values as
 * ExecutionParameters, poll with backoff, then page through GetQueryResults. Every dialect question is
 * settled in observe/sql.ts (the same text runs on DuckDB in the tests).
 * https://docs.aws.amazon.com/athena/latest/ug/querying-with-prepared-statements-querying-using-execution-parameters.html
 */
import {
  AthenaClient,
  GetQueryExecutionCommand,
  paginateGetQueryResults,
  StartQueryExecutionCommand,
  StopQueryExecutionCommand,
} from '@aws-sdk/client-athena';
import { ServiceError } from '../core/errors.js';
import type { AthenaConfig } from '../model/types.js';
import type { SqlParam } from './sql.js';

interface AthenaRunOptions {
  client: AthenaClient;
  config: AthenaConfig;
  sql: string;
  params: readonly SqlParam[];
  /** Waits between polls; injected so tests need not sleep. */
  sleep?: (ms: number) => Promise<void>;
  /** Give up (and stop the query) after this long. */
  timeoutMs?: number;
  /** The setting behind timeoutMs, named when a query is stopped (e.g. `flowLogs.maxSeconds in ...`). */
  timeoutSetting?: string;
  /**
   * The values as Athena literals, when the caller wrote them (ask: a number keeps its text, 1048576.0 stays a
   * decimal); otherwise executionParameter(params).
   */
  literals?: readonly string[];
  /** Where the environment is configured, named when the bytes cutoff (config.maxBytesScanned) stops a query. */
  configFile?: string;
  /** After each poll, the final one included: the query's state and DataScannedInBytes so far (progress). */
  onPoll?: (status: { state: string; bytesScanned: number; elapsedMs: number }) => void;
}

const BYTE_UNITS: Record<string, number> = {
  B: 1,
  KB: 1e3,
  MB: 1e6,
  GB: 1e9,
  TB: 1e12,
  KIB: 2 ** 10,
  MIB: 2 ** 20,
  GIB: 2 ** 30,
  TIB: 2 ** 40,
};

/** `100GB`, `1.5 TiB` (flowLogs.athena.maxBytesScanned, checked by the schema) in bytes. */
export function parseBytes(text: string): number {
  const m = /^(\d+(?:\.\d+)?) ?([KMGT]i?B|B)$/i.exec(text.trim());
  const unit = m ? BYTE_UNITS[m[2]!.toUpperCase()] : undefined;
  if (!m || unit === undefined) throw new ServiceError(`cannot read ${JSON.stringify(text)} as a number of bytes (like 100GB)`);
  return Math.floor(Number(m[1]) * unit);
}

/**
 * Athena substitutes execution parameters as SQL literals: strings must come quoted (quotes doubled),
 * numbers bare. Values are checked here so nothing else can reach the query text.
 */
export function executionParameter(v: SqlParam): string {
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new ServiceError(`cannot pass ${v} to Athena`);
    return String(v);
  }
  return `'${v.replace(/'/g, "''")}'`;
}

/** Backoff between polls: 250 ms doubling to 5 s. */
function pollDelay(attempt: number): number {
  return Math.min(5000, 250 * 2 ** attempt);
}

/** Runs one query and returns its rows as objects keyed by column name (values as strings, NULL as null). */
export async function runAthenaQuery(opts: AthenaRunOptions): Promise<Record<string, string | null>[]> {
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const { client, config } = opts;
  const started = await client.send(
    new StartQueryExecutionCommand({
      QueryString: opts.sql,
      QueryExecutionContext: { Database: config.database },
      WorkGroup: config.workgroup,
      ...(config.outputLocation ? { ResultConfiguration: { OutputLocation: config.outputLocation } } : {}),
      ...(opts.params.length > 0 ? { ExecutionParameters: opts.literals ? [...opts.literals] : opts.params.map(executionParameter) } : {}),
    }),
  );
  const id = started.QueryExecutionId;
  if (!id) throw new ServiceError('Athena returned no QueryExecutionId');

  const timeoutMs = opts.timeoutMs ?? 30 * 60_000;
  const startedAt = Date.now();
  const deadline = startedAt + timeoutMs;
  const cutoff = config.maxBytesScanned !== undefined ? parseBytes(config.maxBytesScanned) : undefined;
  const stop = () => client.send(new StopQueryExecutionCommand({ QueryExecutionId: id })).catch(() => undefined);
  const cutoffSetting = `flowLogs.athena.maxBytesScanned${opts.configFile ? ` in ${opts.configFile}` : ''}`;
  for (let attempt = 0; ; attempt++) {
    const exec = await client.send(new GetQueryExecutionCommand({ QueryExecutionId: id }));
    const state = exec.QueryExecution?.Status?.State;
    const scanned = exec.QueryExecution?.Statistics?.DataScannedInBytes;
    opts.onPoll?.({ state: state ?? 'UNKNOWN', bytesScanned: scanned ?? 0, elapsedMs: Date.now() - startedAt });
    if (state === 'SUCCEEDED') break;
    if (state === 'FAILED' || state === 'CANCELLED') {
      const reason = exec.QueryExecution?.Status?.StateChangeReason ?? 'no reason given';
      // The workgroup's own cutoff (BytesScannedCutoffPerQuery) cancels a query with this reason.
      const workgroupCutoff = /bytes scanned limit|BytesScannedCutoffPerQuery/i.test(reason)
        ? ` (the cutoff of the workgroup ${config.workgroup}, BytesScannedCutoffPerQuery: narrow the days the query reads, or raise it)`
        : '';
      throw new ServiceError(`Athena query ${id} ${state.toLowerCase()}: ${reason}${workgroupCutoff}`);
    }
    // Athena bills the bytes a query scans: past the cutoff it is stopped while it runs, not after.
    if (cutoff !== undefined && scanned !== undefined && scanned > cutoff) {
      await stop();
      throw new ServiceError(
        `Athena query ${id} was stopped after scanning ${scanned} bytes, past ${config.maxBytesScanned} (${cutoffSetting}): ` +
          'narrow the days it reads, or raise the setting',
      );
    }
    if (Date.now() > deadline) {
      await stop();
      throw new ServiceError(
        `Athena query ${id} did not finish in time (${timeoutMs / 1000} s${opts.timeoutSetting ? `, ${opts.timeoutSetting}` : ''}); it was stopped`,
      );
    }
    await sleep(pollDelay(attempt));
  }

  const rows: Record<string, string | null>[] = [];
  let columns: string[] | undefined;
  let first = true;
  for await (const page of paginateGetQueryResults({ client, pageSize: 1000 }, { QueryExecutionId: id })) {
    const rs = page.ResultSet;
    columns ??= (rs?.ResultSetMetadata?.ColumnInfo ?? []).map((c) => c.Name ?? '');
    for (const row of rs?.Rows ?? []) {
      const values = (row.Data ?? []).map((d) => d.VarCharValue ?? null);
      // The first row of a SELECT's results repeats the column names.
      if (first) {
        first = false;
        if (values.every((v, i) => v === columns![i])) continue;
      }
      rows.push(Object.fromEntries(columns.map((c, i) => [c, values[i] ?? null])));
    }
  }
  return rows;
}
