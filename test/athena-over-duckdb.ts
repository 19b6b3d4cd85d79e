/**
 * An Athena that answers with DuckDB, for tests at the SDK boundary: StartQueryExecution runs the SQL text and the
 * execution parameters it receives over the flow-log files of a directory, as a table of the Athena schema
 * (`<database>.vpc_flow_logs`), and GetQueryResults returns the rows as Athena does (strings, NULL as no value,
 * the column names repeated as the first row). So a test checks the very request a command sends.
 */
import { GetQueryExecutionCommand, GetQueryResultsCommand, StartQueryExecutionCommand, type AthenaClient } from '@aws-sdk/client-athena';
import type { AwsClientStub } from 'aws-sdk-client-mock';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { openDuckDb, query } from '../observe/duckdb-session.js';
import { createFlowLogsView } from '../observe/duckdb-view.js';
import { fileKind } from '../observe/sources.js';
import type { SqlParam } from '../observe/sql.js';

/** Athena's execution parameters back to values: quoted strings, bare numbers. */
export function fromExecutionParameter(p: string): SqlParam {
  return p.startsWith("'") ? p.slice(1, -1).replace(/''/g, "'") : Number(p);
}

export function athenaOverDuckDb(athena: AwsClientStub<AthenaClient>, logsDir: string): void {
  let rows: Record<string, unknown>[] = [];
  athena
    .on(StartQueryExecutionCommand)
    .callsFake(async (input: { QueryString: string; ExecutionParameters?: string[]; QueryExecutionContext?: { Database?: string } }) => {
      const duck = await openDuckDb();
      const { connection } = duck;
      try {
        const files = (await readdir(logsDir)).sort().map((name) => {
          const path = join(logsDir, name);
          return { path, display: name, kind: fileKind(path)! };
        });
        await createFlowLogsView(connection, files);
        await connection.run(`CREATE SCHEMA ${input.QueryExecutionContext!.Database}`);
        await connection.run(`CREATE VIEW ${input.QueryExecutionContext!.Database}.vpc_flow_logs AS SELECT * FROM flow_logs`);
        rows = await query(connection, input.QueryString, (input.ExecutionParameters ?? []).map(fromExecutionParameter));
      } finally {
        duck.close();
      }
      return { QueryExecutionId: 'q-over-duckdb' };
    });
  athena.on(GetQueryExecutionCommand).resolves({ QueryExecution: { Status: { State: 'SUCCEEDED' } } });
  athena.on(GetQueryResultsCommand).callsFake(async () => {
    const names = Object.keys(rows[0] ?? { kind: null });
    const cell = (v: unknown) => (v === null || v === undefined ? {} : { VarCharValue: String(v) });
    return {
      ResultSet: {
        ResultSetMetadata: { ColumnInfo: names.map((Name) => ({ Name, Type: 'varchar' })) },
        Rows: [{ Data: names.map((n) => ({ VarCharValue: n })) }, ...rows.map((r) => ({ Data: names.map((n) => cell(r[n])) }))],
      },
    };
  });
}
