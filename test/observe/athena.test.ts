import {
  AthenaClient,
  GetQueryExecutionCommand,
  GetQueryResultsCommand,
  StartQueryExecutionCommand,
  StopQueryExecutionCommand,
} from '@aws-sdk/client-athena';
import { mockClient } from 'aws-sdk-client-mock';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { ServiceError, UsageError } from '../../core/errors.js';
import { readRepo } from '../../model/read-repo.js';
import { executionParameter, runAthenaQuery } from '../../observe/athena.js';
import { openDuckDb, query } from '../../observe/duckdb-session.js';
import { createFlowLogsView } from '../../observe/duckdb-view.js';
import { queryInput, windowEnding } from '../../observe/observe.js';
import { flowLogsFor } from '../../observe/sources.js';
import { renderObserveQuery } from '../../observe/sql.js';
import { athenaOverDuckDb } from '../athena-over-duckdb.js';
import { at, exchange, line, observeOrg, statusRecord, T0, thrown, V2, V5, WIN_FROM, writeOrg, type Rec } from './helpers.js';

const athena = mockClient(AthenaClient);
afterEach(() => athena.reset());

const config = { database: 'flowlogs', table: 'vpc_flow_logs', workgroup: 'leastpath-readonly', outputLocation: 's3://bucket/athena/' };
const selectors = { web: { cidrs: ['10.0.1.0/24'], interfaces: [], instances: [], subnets: [] } };

describe('athena engine', () => {
  it('sends the observe SQL with every value as a quoted execution parameter, polls, and pages through results', async () => {
    const q = renderObserveQuery(queryInput('flowlogs.vpc_flow_logs', selectors, windowEnding('2026-11-21', 14)));
    athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: 'q-1' });
    athena
      .on(GetQueryExecutionCommand)
      .resolvesOnce({ QueryExecution: { Status: { State: 'QUEUED' } } })
      .resolvesOnce({ QueryExecution: { Status: { State: 'RUNNING' } } })
      .resolves({ QueryExecution: { Status: { State: 'SUCCEEDED' } } });
    const cols = ['kind', 'workload', 'raddr'].map((Name) => ({ Name, Type: 'varchar' }));
    athena
      .on(GetQueryResultsCommand, { QueryExecutionId: 'q-1', MaxResults: 1000 })
      .resolves({
        ResultSet: {
          ResultSetMetadata: { ColumnInfo: cols },
          Rows: [
            { Data: [{ VarCharValue: 'kind' }, { VarCharValue: 'workload' }, { VarCharValue: 'raddr' }] },
            { Data: [{ VarCharValue: 'egress' }, { VarCharValue: 'web' }, { VarCharValue: '203.0.113.10' }] },
          ],
        },
        NextToken: 't2',
      })
      .on(GetQueryResultsCommand, { QueryExecutionId: 'q-1', MaxResults: 1000, NextToken: 't2' })
      .resolves({
        ResultSet: {
          ResultSetMetadata: { ColumnInfo: cols },
          Rows: [{ Data: [{ VarCharValue: 'stats' }, { VarCharValue: 'OK' }, {}] }],
        },
      });
    const waits: number[] = [];
    const rows = await runAthenaQuery({
      client: new AthenaClient({ region: 'eu-west-1' }),
      config,
      sql: q.sql,
      params: q.params,
      sleep: async (ms) => void waits.push(ms),
    });

    expect(rows).toEqual([
      { kind: 'egress', workload: 'web', raddr: '203.0.113.10' },
      { kind: 'stats', workload: 'OK', raddr: null },
    ]);
    expect(waits).toEqual([250, 500]);
    const start = athena.commandCalls(StartQueryExecutionCommand)[0]!.args[0].input;
    expect(start.QueryString).toBe(q.sql);
    expect(start.WorkGroup).toBe('leastpath-readonly');
    expect(start.QueryExecutionContext).toEqual({ Database: 'flowlogs' });
    expect(start.ResultConfiguration).toEqual({ OutputLocation: 's3://bucket/athena/' });
    // the partition filter is on the projected `day` column, its values passed as parameters
    expect(q.sql).toMatch(/WHERE day BETWEEN \? AND \?/);
    expect(start.ExecutionParameters!.slice(0, 2)).toEqual(["'2026/11/07'", "'2026/11/21'"]);
    expect(start.ExecutionParameters!.length).toBe(q.params.length);
    // selector values never reach the query text
    expect(q.sql).not.toContain('web');
    expect(q.sql).not.toContain('2026');
  });

  it("a failed query is a ServiceError with Athena's reason", async () => {
    athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: 'q-2' });
    athena
      .on(GetQueryExecutionCommand)
      .resolves({ QueryExecution: { Status: { State: 'FAILED', StateChangeReason: 'TABLE_NOT_FOUND: vpc_flow_logs' } } });
    await expect(
      runAthenaQuery({
        client: new AthenaClient({ region: 'eu-west-1' }),
        config,
        sql: 'SELECT 1',
        params: [],
        sleep: async () => undefined,
      }),
    ).rejects.toThrow(new ServiceError('Athena query q-2 failed: TABLE_NOT_FOUND: vpc_flow_logs'));
  });

  it('a query that runs past its time limit is stopped', async () => {
    athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: 'q-3' });
    athena.on(GetQueryExecutionCommand).resolves({ QueryExecution: { Status: { State: 'RUNNING' } } });
    athena.on(StopQueryExecutionCommand).resolves({});
    await expect(
      runAthenaQuery({
        client: new AthenaClient({ region: 'eu-west-1' }),
        config,
        sql: 'SELECT 1',
        params: [],
        sleep: async () => undefined,
        timeoutMs: -1,
      }),
    ).rejects.toThrow(/did not finish in time/);
    expect(athena.commandCalls(StopQueryExecutionCommand)).toHaveLength(1);
  });

  it('a query past flowLogs.athena.maxBytesScanned is stopped while it runs, naming the setting', async () => {
    athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: 'q-4' });
    athena
      .on(GetQueryExecutionCommand)
      .resolvesOnce({ QueryExecution: { Status: { State: 'RUNNING' }, Statistics: { DataScannedInBytes: 900_000_000 } } })
      .resolves({ QueryExecution: { Status: { State: 'RUNNING' }, Statistics: { DataScannedInBytes: 1_200_000_000 } } });
    athena.on(StopQueryExecutionCommand).resolves({});
    const err = await thrown(() =>
      runAthenaQuery({
        client: new AthenaClient({ region: 'eu-west-1' }),
        config: { ...config, maxBytesScanned: '1GB' },
        sql: 'SELECT 1',
        params: [],
        sleep: async () => undefined,
        configFile: 'policies/dev/environment.yaml',
      }),
    );
    expect(err).toEqual(
      new ServiceError(
        'Athena query q-4 was stopped after scanning 1200000000 bytes, past 1GB (flowLogs.athena.maxBytesScanned in policies/dev/environment.yaml): narrow the days it reads, or raise the setting',
      ),
    );
    expect(athena.commandCalls(StopQueryExecutionCommand).map((c) => c.args[0].input)).toEqual([{ QueryExecutionId: 'q-4' }]);
    expect(athena.commandCalls(GetQueryExecutionCommand)).toHaveLength(2);
  });

  it("a query the workgroup's BytesScannedCutoffPerQuery cancelled says so", async () => {
    athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: 'q-5' });
    athena.on(GetQueryExecutionCommand).resolves({
      QueryExecution: { Status: { State: 'CANCELLED', StateChangeReason: 'Query cancelled: Bytes scanned limit was exceeded' } },
    });
    await expect(
      runAthenaQuery({
        client: new AthenaClient({ region: 'eu-west-1' }),
        config,
        sql: 'SELECT 1',
        params: [],
        sleep: async () => undefined,
      }),
    ).rejects.toThrow(
      new ServiceError(
        'Athena query q-5 cancelled: Query cancelled: Bytes scanned limit was exceeded (the cutoff of the workgroup leastpath-readonly, BytesScannedCutoffPerQuery: narrow the days the query reads, or raise it)',
      ),
    );
  });

  it('observe on Athena stops at flowLogs.maxSeconds and names it', async () => {
    const root = await writeOrg({ logs: [], athena: true, engine: 'athena' });
    const file = join(root, 'policies/dev/environment.yaml');
    await writeFile(file, (await readFile(file, 'utf8')).replace('"engine":"athena"', '"engine":"athena","maxSeconds":0.001'));
    athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: 'q-6' });
    athena.on(GetQueryExecutionCommand).callsFake(async () => {
      await new Promise((r) => setTimeout(r, 5));
      return { QueryExecution: { Status: { State: 'RUNNING' } } };
    });
    athena.on(StopQueryExecutionCommand).resolves({});
    const err = await thrown(() => observeOrg(root, { athenaClient: new AthenaClient({ region: 'eu-west-1' }) }));
    expect((err as Error).message).toBe(
      'Athena query q-6 did not finish in time (0.001 s, flowLogs.maxSeconds in policies/dev/environment.yaml); it was stopped',
    );
    expect(athena.commandCalls(StopQueryExecutionCommand)).toHaveLength(1);
  });

  it('quotes string parameters as SQL literals and passes numbers bare', () => {
    expect(executionParameter("it's")).toBe("'it''s'");
    expect(executionParameter(1762732800)).toBe('1762732800');
  });

  it('the very text Athena gets runs on DuckDB over a table of the Athena schema', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'leastpath-athena-sql-'));
    const file = join(dir, 'a.log.gz');
    const recs = [
      {
        'interface-id': 'eni-1',
        srcaddr: '10.0.1.10',
        dstaddr: '203.0.113.10',
        srcport: 51514,
        dstport: 443,
        protocol: 6,
        start: T0,
        'tcp-flags': 2,
        'flow-direction': 'egress',
      },
      {
        'interface-id': 'eni-1',
        srcaddr: '203.0.113.10',
        dstaddr: '10.0.1.10',
        srcport: 443,
        dstport: 51514,
        protocol: 6,
        start: T0,
        'tcp-flags': 18,
        'flow-direction': 'ingress',
      },
    ];
    await writeFile(file, gzipSync(`${V5.join(' ')}\n${recs.map((r) => line(V5, r)).join('\n')}\n`));
    const duck = await openDuckDb();
    const { connection } = duck;
    try {
      await createFlowLogsView(connection, [{ path: file, display: 'a.log.gz', kind: 'gzip' }]);
      await connection.run('CREATE SCHEMA flowlogs');
      await connection.run('CREATE VIEW flowlogs.vpc_flow_logs AS SELECT * FROM flow_logs');
      const q = renderObserveQuery(queryInput('flowlogs.vpc_flow_logs', selectors, windowEnding('2026-11-21', 14)));
      const rows = await query(connection, q.sql, q.params);
      expect(rows.filter((r) => r.kind === 'egress').map((r) => [r.workload, r.raddr, Number(r.rport)])).toEqual([
        ['web', '203.0.113.10', 443],
      ]);
    } finally {
      duck.close();
    }
  });
});

describe('athena engine: runObserve writes what the duckdb engine writes for the same records', () => {
  it.each([
    ['v5 records', V5],
    ['v2 records', V2],
  ])('%s', async (_name, fields) => {
    const WEB = '10.0.1.10';
    const API = '10.0.2.20';
    const records: Rec[] = [
      ...exchange({ eni: 'eni-0a1b2c3d', src: WEB, sport: 51514, dst: '203.0.113.10', dport: 443, start: T0, flags: [2, 18] }),
      ...exchange({ eni: 'eni-0a1b2c3d', src: WEB, sport: 51515, dst: '203.0.113.10', dport: 443, start: T0 + 86_400, flags: [3, 19] }),
      ...exchange({ eni: 'eni-0a1b2c3d', src: WEB, sport: 40000, dst: API, dport: 8080, start: T0, flags: [2, 18] }),
      ...exchange({ eni: 'eni-0e5f6a7b', side: 'dst', src: WEB, sport: 40000, dst: API, dport: 8080, start: T0, flags: [2, 18] }),
      ...exchange({
        eni: 'eni-0a1b2c3d',
        src: WEB,
        sport: 40001,
        dst: '52.218.1.10',
        dport: 443,
        start: T0,
        flags: [2, 18],
        extra: { 'pkt-dst-aws-service': 'S3' },
      }),
      ...exchange({
        eni: 'eni-0a1b2c3d',
        src: '2001:db8:1::10',
        sport: 40002,
        dst: '2001:DB8:5::7',
        dport: 443,
        start: T0,
        flags: [2, 18],
      }),
      ...exchange({ eni: 'eni-0a1b2c3d', src: WEB, sport: 0, dst: '10.0.5.5', dport: 0, protocol: 1, start: T0 }),
      ...exchange({ eni: 'eni-0a1b2c3d', side: 'dst', src: '198.51.100.5', sport: 50000, dst: WEB, dport: 443, start: T0, flags: [2, 18] }),
      ...exchange({
        eni: 'eni-0a1b2c3d',
        src: WEB,
        sport: 40003,
        dst: '10.0.10.5',
        dport: 5432,
        start: T0,
        flags: [2, 0],
        action: 'REJECT',
      }),
      ...exchange({ eni: 'eni-0a1b2c3d', src: WEB, sport: 40004, dst: '203.0.113.11', dport: 443, start: WIN_FROM - 600, flags: [2, 18] }),
      ...exchange({ eni: 'eni-0a1b2c3d', src: WEB, sport: 40004, dst: '203.0.113.11', dport: 443, start: WIN_FROM + 600 }),
      statusRecord('eni-0a1b2c3d', 'NODATA', T0 + 600),
      statusRecord('eni-0e5f6a7b', 'SKIPDATA', T0 + 600),
    ];
    const root = await writeOrg({
      athena: true,
      workloads: { web: { cidrs: ['10.0.1.0/24', '2001:db8:1::/64'] }, api: { interfaces: ['eni-0e5f6a7b'] } },
      logs: [{ name: 'a.log.gz', fields, records }],
      // The records span two days of 14: minCoverage 0 lets them replace the evidence; the engines are compared here.
      minCoverage: 0,
    });
    const paths = ['observed/dev/api.yaml', 'observed/dev/web.yaml'];
    const viaDuckDb = await observeOrg(root, { engine: 'duckdb' });
    expect(viaDuckDb.written).toEqual(paths);
    const duck = await Promise.all(paths.map((p) => readFile(join(root, p), 'utf8')));
    expect(duck[1]).toContain('destination: 2001:db8:5::7/128');

    athenaOverDuckDb(athena, join(root, 'logs'));
    const viaAthena = await observeOrg(root, { engine: 'athena', athenaClient: new AthenaClient({ region: 'eu-west-1' }) });
    expect(viaAthena.written).toEqual(paths);
    const ath = await Promise.all(paths.map((p) => readFile(join(root, p), 'utf8')));
    expect(ath.map((t) => t.replace('engine: athena', 'engine: duckdb'))).toEqual(duck);
    expect(ath[1]).toContain('engine: athena');
    expect({ ...viaAthena, engine: 'duckdb', files: 0, written: [] }).toEqual({ ...viaDuckDb, files: 0, written: [] });
    const start = athena.commandCalls(StartQueryExecutionCommand)[0]!.args[0].input;
    expect(start.QueryExecutionContext).toEqual({ Database: 'flowlogs' });
    expect(start.QueryString).toContain('"flowlogs"."vpc_flow_logs"');
  });
});

describe('flowLogsFor: flowLogs the engine cannot read is a usage error naming environment.yaml', () => {
  const NO_TABLE = 'policies/dev/environment.yaml: flowLogs.athena is not set: the athena engine needs database, table and workgroup';
  const NO_FILES = 'policies/dev/environment.yaml: flowLogs.files is empty: the duckdb engine needs files to read';

  it('observe --engine athena without flowLogs.athena, and --engine duckdb without files; Athena is never called', async () => {
    const noTable = await thrown(async () => observeOrg(await writeOrg({ logs: [] }), { engine: 'athena' }));
    expect(noTable).toBeInstanceOf(UsageError);
    expect((noTable as Error).message).toBe(NO_TABLE);
    const noFiles = await thrown(async () =>
      observeOrg(await writeOrg({ logs: [], patterns: [], athena: true, engine: 'athena' }), { engine: 'duckdb' }),
    );
    expect(noFiles).toBeInstanceOf(UsageError);
    expect((noFiles as Error).message).toBe(NO_FILES);
    expect(athena.commandCalls(StartQueryExecutionCommand)).toHaveLength(0);
  });

  it("without an engine, the environment's own (ask; validate refuses such a file before any command runs)", async () => {
    const { repo } = await readRepo(await writeOrg({ logs: [], engine: 'athena' }));
    expect(() => flowLogsFor(repo.environments.get('dev')!)).toThrow(NO_TABLE);
    expect(flowLogsFor(repo.environments.get('dev')!, 'duckdb')).toMatchObject({ engine: 'duckdb', files: ['../../logs/*'] });
  });
});

describe('athena engine: observe --rebuild keeps nothing of the earlier files, as on duckdb', () => {
  it('a decision carried in openConnections is not carried into a rebuilt window on either engine', async () => {
    const WEB = '10.0.1.10';
    const SERVER = '198.51.100.50';
    // web opens a connection on ports that say nothing (41000 -> 52000) on 2026-11-03 and keeps it open with keep-alives
    // in which the server's record starts a second before web's; the handshake is only in the first window.
    const base = { eni: 'eni-0a1b2c3d', src: WEB, sport: 41000, dst: SERVER, dport: 52000 };
    const opened = at('2026-11-03T10:15:00Z');
    const records: Rec[] = exchange({ ...base, start: opened, flags: [2, 18] });
    for (let t = opened + 1800; t < at('2026-11-22T00:00:00Z'); t += 1800)
      records.push(...exchange({ ...base, start: t + 1, replyStart: t }));
    const root = await writeOrg({ athena: true, minCoverage: 0, logs: [{ name: 'a.log', records }] });
    const file = join(root, 'observed/dev/web.yaml');
    await observeOrg(root, { engine: 'duckdb', to: '2026-11-10' });
    const earlier = await readFile(file, 'utf8');
    expect(earlier).toContain(`openConnections:\n  - { client: ${WEB}, clientPort: 41000, server: ${SERVER}, serverPort: 52000 }`);

    // --rebuild: "rebuilt from the flow logs alone, nothing of the earlier observed files kept", on each engine
    await observeOrg(root, { engine: 'duckdb', to: '2026-11-21', rebuild: true });
    const duck = await readFile(file, 'utf8');
    await writeFile(file, earlier);
    athenaOverDuckDb(athena, join(root, 'logs'));
    await observeOrg(root, { engine: 'athena', athenaClient: new AthenaClient({ region: 'eu-west-1' }), to: '2026-11-21', rebuild: true });
    const ath = await readFile(file, 'utf8');
    expect(ath.replace('engine: athena', 'engine: duckdb')).toBe(duck);
    expect(duck).not.toContain('decidedBy: tcp-flags');
  });
});
