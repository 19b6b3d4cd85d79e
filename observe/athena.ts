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
  /** After each poll, the final one included: the query's state and DataScannedInBytes so far (progress). */
  onPoll?: (status: { state: string; bytesScanned: number; elapsedMs: number }) => void;
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
      ...(opts.params.length > 0 ? { ExecutionParameters: opts.params.map(executionParameter) } : {}),
    }),
  );
  const id = started.QueryExecutionId;
  if (!id) throw new ServiceError('Athena returned no QueryExecutionId');

  const startedAt = Date.now();
  const deadline = startedAt + (opts.timeoutMs ?? 30 * 60_000);
  for (let attempt = 0; ; attempt++) {
    const exec = await client.send(new GetQueryExecutionCommand({ QueryExecutionId: id }));
    const state = exec.QueryExecution?.Status?.State;
    opts.onPoll?.({ state: state ?? 'UNKNOWN', bytesScanned: exec.QueryExecution?.Statistics?.DataScannedInBytes ?? 0, elapsedMs: Date.now() - startedAt });
    if (state === 'SUCCEEDED') break;
    if (state === 'FAILED' || state === 'CANCELLED') {
      const reason = exec.QueryExecution?.Status?.StateChangeReason ?? 'no reason given';
      throw new ServiceError(`Athena query ${id} ${state.toLowerCase()}: ${reason}`);
    }
    if (Date.now() > deadline) {
      await client.send(new StopQueryExecutionCommand({ QueryExecutionId: id })).catch(() => undefined);
      throw new ServiceError(`Athena query ${id} did not finish in time; it was stopped`);
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
