/** report with the athena engine: the request at the SDK boundary, and the same document the duckdb engine gives. */
import { AthenaClient, StartQueryExecutionCommand } from '@aws-sdk/client-athena';
import { mockClient } from 'aws-sdk-client-mock';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { UsageError } from '../../core/errors.js';
import { runReport } from '../../cli/commands/report.js';
import { athenaOverDuckDb } from '../athena-over-duckdb.js';
import { exchange, T0, thrown, writeOrg } from '../observe/helpers.js';
import { runCli } from '../validate/org.js';
import { TODAY, writeReportOrg, type ReportOrg } from './helpers.js';

const athena = mockClient(AthenaClient);
afterEach(() => athena.reset());

const WEB = '10.0.1.10';

const org: Omit<ReportOrg, 'athena'> = {
  logs: [
    {
      name: 'a.log.gz',
      records: [
        ...exchange({ eni: 'eni-0aeb', src: WEB, sport: 40001, dst: '203.0.113.10', dport: 443, start: T0, flags: [2, 18] }),
        ...exchange({ eni: 'eni-0aeb', src: WEB, sport: 40002, dst: '203.0.113.10', dport: 443, start: T0 + 3600, flags: [2, 18] }),
        ...exchange({ eni: 'eni-0aeb', src: WEB, sport: 40003, dst: '198.51.100.7', dport: 8443, start: T0, flags: [2, 18] }),
        ...exchange({ eni: 'eni-0aeb', src: WEB, sport: 40004, dst: '10.0.10.5', dport: 5432, start: T0, flags: [2, 0], action: 'REJECT' }),
      ],
    },
  ],
  egress: {
    web: [
      '  - { to: { cidrs: [203.0.113.0/24] }, ports: [tcp/443], why: partner API }',
      '  - { to: { cidrs: [192.0.2.0/24] }, ports: [tcp/443], why: old partner }',
      '',
    ].join('\n'),
  },
};

describe('report --engine athena (mocked Athena that runs the SQL it receives on DuckDB)', () => {
  it('sends the report SQL with values as execution parameters and gives the document the duckdb engine gives', async () => {
    const duckRoot = await writeReportOrg(org);
    const viaDuckDb = await runReport({ root: duckRoot, env: 'dev', today: TODAY, to: '2026-11-21' });

    const root = await writeReportOrg({ ...org, athena: true });
    athenaOverDuckDb(athena, join(root, 'logs'));
    const viaAthena = await runReport({
      root,
      env: 'dev',
      today: TODAY,
      to: '2026-11-21',
      athenaClient: new AthenaClient({ region: 'eu-west-1' }),
    });

    // The document is the engine's answer: the same hits, unused rules and rejections either way.
    expect(viaAthena.report).toEqual(viaDuckDb.report);
    const hits = Object.fromEntries(viaAthena.report.rules.map((r) => [r.peer, r.hits]));
    expect(hits).toMatchObject({ '203.0.113.0/24': 2, '192.0.2.0/24': 0 });
    expect(viaAthena.report.rejected.map((r) => [r.destination, r.port])).toEqual([['10.0.10.5/32', 5432]]);

    const calls = athena.commandCalls(StartQueryExecutionCommand);
    expect(calls).toHaveLength(1);
    const input = calls[0]!.args[0].input;
    expect(input.QueryExecutionContext).toEqual({ Database: 'flowlogs' });
    expect(input.WorkGroup).toBe('leastpath-readonly');
    expect(input.ResultConfiguration).toEqual({ OutputLocation: 's3://bucket/athena/' });
    expect(input.QueryString).toContain('"flowlogs"."vpc_flow_logs"');
    // Every value travels as a parameter: no address, day or workload name is in the text.
    expect(input.QueryString).not.toMatch(/203\.0\.113|10\.0\.1\.|2026\/11|'web'/);
    expect(input.ExecutionParameters).toContain("'2026/11/21'");
    expect(input.ExecutionParameters).toContain("'web'");
  });
});

describe('report --engine duckdb where flowLogs.engine is athena', () => {
  it('reads the listed files with DuckDB and never calls Athena (on Athena a report reads the table about 65 times)', async () => {
    const viaDuckDb = await runReport({ root: await writeReportOrg(org), env: 'dev', today: TODAY, to: '2026-11-21' });
    const root = await writeReportOrg({ ...org, athena: true });
    const r = await runCli(['--root', root, 'report', '--env', 'dev', '--to', '2026-11-21', '--engine', 'duckdb', '--format', 'json'], {
      LEASTPATH_TODAY: TODAY,
    });
    expect(athena.commandCalls(StartQueryExecutionCommand)).toHaveLength(0);
    expect(JSON.parse(r.stdout)).toEqual(JSON.parse(JSON.stringify(viaDuckDb.report)));
  });
});

describe('report: flowLogs the engine cannot read is a usage error naming environment.yaml', () => {
  it('--engine athena without flowLogs.athena', async () => {
    const root = await writeReportOrg(org);
    const err = await thrown(() => runReport({ root, env: 'dev', today: TODAY, to: '2026-11-21', engine: 'athena' }));
    expect(err).toBeInstanceOf(UsageError);
    expect((err as Error).message).toBe(
      'policies/dev/environment.yaml: flowLogs.athena is not set: the athena engine needs database, table and workgroup',
    );
    expect(athena.commandCalls(StartQueryExecutionCommand)).toHaveLength(0);
  });

  it('--engine duckdb without flowLogs.files', async () => {
    const root = await writeOrg({ logs: [], patterns: [], athena: true, engine: 'athena' });
    const err = await thrown(() => runReport({ root, env: 'dev', today: TODAY, to: '2026-11-21', engine: 'duckdb' }));
    expect(err).toBeInstanceOf(UsageError);
    expect((err as Error).message).toBe('policies/dev/environment.yaml: flowLogs.files is empty: the duckdb engine needs files to read');
  });
});
