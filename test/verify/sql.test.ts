/** The report query is one text for both engines: it runs on a schema-qualified table of the Athena schema too. */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_ANOMALIES } from '../../model/normalise.js';
import { openDuckDb, query } from '../../observe/duckdb-session.js';
import { createFlowLogsView, resolveFiles } from '../../observe/duckdb-view.js';
import { queryInput, rangeMatch, windowEnding } from '../../observe/observe.js';
import { renderObserveQuery } from '../../observe/sql.js';
import { decodeReportRow, renderReportQuery } from '../../verify/report-sql.js';
import { exchange, T0, writeLogFiles } from '../observe/helpers.js';

describe('report query', () => {
  const base = queryInput(
    'flowlogs.vpc_flow_logs',
    { web: { cidrs: ['10.0.1.0/24'], interfaces: [], instances: [], subnets: [] } },
    windowEnding('2026-11-21', 14),
    ['10.0.0.0/16'],
  );
  const input = {
    ...base,
    rules: [
      {
        id: 0,
        workload: 'web',
        direction: 'egress' as const,
        protocol: 6,
        fromPort: 443,
        toPort: 443,
        peer: rangeMatch(['203.0.113.0/24']),
        peerWorkloads: [],
      },
    ],
    thresholds: DEFAULT_ANOMALIES,
  };

  it('extends the observe query: the same conversation CTEs, text and parameters, then its own', () => {
    const observe = renderObserveQuery(base);
    const report = renderReportQuery(input);
    const shared = observe.sql.slice(0, observe.sql.indexOf(',\nmine AS ('));
    expect(report.sql.startsWith(shared)).toBe(true);
    expect(report.params.slice(0, observe.params.length)).toEqual(observe.params);
    expect(report.sql.split('?').length - 1).toBe(report.params.length);
    // every value is a parameter: no address, port or threshold is written into the text
    expect(report.sql).not.toMatch(/203\.0\.113|'web'|16384|100000000/);
  });

  it('runs on a database.table relation (the Athena form) and counts the hit', async () => {
    const root = await mkdtemp(join(tmpdir(), 'leastpath-report-sql-'));
    await writeLogFiles(join(root, 'logs'), [
      {
        name: 'a.log',
        records: exchange({ eni: 'eni-0aeb', src: '10.0.1.10', sport: 40001, dst: '203.0.113.10', dport: 443, start: T0, flags: [2, 18] }),
      },
    ]);
    const duck = await openDuckDb();
    const { connection } = duck;
    try {
      const files = await resolveFiles(connection, ['logs/*'], root, root);
      await createFlowLogsView(connection, files, base.winFrom);
      await connection.run('CREATE SCHEMA flowlogs');
      await connection.run('CREATE VIEW flowlogs.vpc_flow_logs AS SELECT * FROM flow_logs');
      const q = renderReportQuery(input);
      const rows = (await query(connection, q.sql, q.params)).map(decodeReportRow);
      expect(rows.filter((r) => r.kind === 'hit')).toMatchObject([{ rule: 0, hits: 1, lastStart: T0 }]);
      expect(rows.filter((r) => r.kind === 'daily')).toMatchObject([
        { workload: 'web', raddr: '203.0.113.10', port: 443, proto: 6, day: 2, flows: 1, bytes: 1000 },
      ]);
    } finally {
      duck.close();
    }
  });
});
