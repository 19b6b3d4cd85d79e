/** The flow-log engine observe and report share: one lifecycle for DuckDB and Athena, closed whatever its caller does. */
import { AthenaClient, StartQueryExecutionCommand } from '@aws-sdk/client-athena';
import { mockClient } from 'aws-sdk-client-mock';
import { mkdtemp, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { InputError } from '../../core/errors.js';
import { withFlowLogs, type FlowLogQuery, type FlowLogSource, type OpenFlowLogs } from '../../observe/engine.js';
import { athenaOverDuckDb } from '../athena-over-duckdb.js';
import { ATHENA_CONFIG, exchange, T0, thrown, writeLogFiles } from './helpers.js';

/** Records per interface after a second: a query with one parameter, its rows decoded with named fields. */
const perInterface: FlowLogQuery<{ iface: string; records: number }> = {
  render: (relation) => ({
    sql: `SELECT interface_id, count(*) AS n FROM ${relation} WHERE start >= ? GROUP BY interface_id ORDER BY interface_id`,
    params: [T0 - 60],
  }),
  countFrom: T0 - 86_400,
  decode: (r) => ({ iface: String(r.interface_id), records: Number(r.n) }),
};

async function logsAt(): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'leastpath-engine-'));
  await writeLogFiles(join(root, 'logs'), [
    {
      name: 'a.log',
      records: exchange({ eni: 'eni-0aaa', src: '10.0.1.10', sport: 40001, dst: '203.0.113.10', dport: 443, start: T0, flags: [2, 18] }),
    },
    {
      name: 'b.log',
      records: exchange({ eni: 'eni-0bbb', src: '10.0.2.10', sport: 40002, dst: '203.0.113.11', dport: 443, start: T0, flags: [2, 18] }),
    },
  ]);
  return root;
}

function duckdbSource(root: string, files = ['logs/*']): FlowLogSource {
  return { root, baseDir: root, flowLogs: { engine: 'duckdb', files } };
}

async function spillOf(logs: OpenFlowLogs): Promise<string> {
  if (logs.engine !== 'duckdb') throw new Error('not duckdb');
  return String((await logs.connection.runAndReadAll("SELECT current_setting('temp_directory')")).getRows()[0]![0]);
}

describe('withFlowLogs: DuckDB', () => {
  it('resolves the files, runs the query over the flow_logs view and decodes its rows; then the session is closed', async () => {
    const root = await logsAt();
    let spill = '';
    const read = await withFlowLogs(duckdbSource(root), { label: 'test' }, async (logs) => {
      spill = await spillOf(logs);
      expect(logs.engine === 'duckdb' && logs.files.map((f) => f.display)).toEqual(['logs/a.log', 'logs/b.log']);
      return logs.read(perInterface);
    });
    expect(read.rows).toEqual([
      { iface: 'eni-0aaa', records: 2 },
      { iface: 'eni-0bbb', records: 2 },
    ]);
    // Closed: the session's private spill folder is gone.
    await expect(stat(spill)).rejects.toThrow(/ENOENT/);
  });

  it('closes the session when its caller fails', async () => {
    const root = await logsAt();
    let spill = '';
    const err = await thrown(() =>
      withFlowLogs(duckdbSource(root), { label: 'test' }, async (logs) => {
        spill = await spillOf(logs);
        throw new Error('the caller failed');
      }),
    );
    expect((err as Error).message).toBe('the caller failed');
    await expect(stat(spill)).rejects.toThrow(/ENOENT/);
  });

  it('stops its progress when the database does not open (a memoryLimit DuckDB refuses): no line after the error', async () => {
    const root = await logsAt();
    const shown: string[] = [];
    const progress = { update: (text: string) => void shown.push(text), end: (text: string) => void shown.push(text) };
    const source = { ...duckdbSource(root), flowLogs: { engine: 'duckdb' as const, files: ['logs/*'], memoryLimit: 'plenty' } };
    const err = await thrown(() => withFlowLogs(source, { progress, label: 'observe dev' }, (logs) => logs.read(perInterface)));
    expect((err as Error).message).toContain('flowLogs.memoryLimit "plenty": DuckDB refused it');
    const after = shown.length;
    // The progress timer shows a line every second while it runs.
    await new Promise((r) => setTimeout(r, 1300));
    expect(shown.length).toBe(after);
  });

  it('a pattern that matches nothing fails before any query, naming the pattern', async () => {
    const root = await logsAt();
    const err = await thrown(() =>
      withFlowLogs(duckdbSource(root, ['logs/*', 'none/*.log']), { label: 'test' }, (logs) => logs.read(perInterface)),
    );
    expect(err).toBeInstanceOf(InputError);
    expect((err as Error).message).toContain('no flow-log files match "none/*.log"');
  });
});

describe('withFlowLogs: Athena', () => {
  const athena = mockClient(AthenaClient);
  afterEach(() => athena.reset());

  it('runs the same query on database.table, its values as execution parameters, and decodes the rows alike', async () => {
    const root = await logsAt();
    athenaOverDuckDb(athena, join(root, 'logs'));
    const source: FlowLogSource = {
      root,
      baseDir: root,
      flowLogs: { engine: 'athena', files: [], athena: ATHENA_CONFIG },
      athenaClient: new AthenaClient({ region: 'eu-west-1' }),
    };
    const read = await withFlowLogs(source, { label: 'test' }, async (logs) => {
      expect(logs.engine).toBe('athena');
      return logs.read(perInterface);
    });
    expect(read.rows).toEqual([
      { iface: 'eni-0aaa', records: 2 },
      { iface: 'eni-0bbb', records: 2 },
    ]);
    const sent = athena.commandCalls(StartQueryExecutionCommand)[0]!.args[0].input;
    expect(sent.QueryString).toContain('FROM flowlogs.vpc_flow_logs WHERE start >= ?');
    expect(sent.ExecutionParameters).toEqual([String(T0 - 60)]);
  });
});
