/**
 * Athena plans every reference to a WITH query again, down to the table scan, and bills each scan: the observe
 * query must read the flow-log table few times (bench/athena/scans.ts prints the figures).
 */
import { describe, expect, it } from 'vitest';
import { inlinedScans } from '../../bench/athena/scans.js';
import { queryInput, windowEnding } from '../../observe/observe.js';
import { renderObserveQuery } from '../../observe/sql.js';
import { renderReportQuery } from '../../verify/report-sql.js';

describe('table reads with every WITH query inlined', () => {
  it('counts each path from the final query down to the table', () => {
    const sql = `WITH
a AS (SELECT * FROM "db"."t" WHERE x = ')'),
-- b reads a twice: FROM a
b AS (SELECT * FROM a JOIN a a2 ON a.k = a2.k),
c AS (SELECT k FROM b UNION ALL SELECT k FROM a)
SELECT * FROM c JOIN b ON b.k = c.k`;
    // a = 1, b = 2, c = b + a = 3; the final query c + b = 5. The comment and the ')' in a string do not count.
    expect(inlinedScans(sql, 'db.t')).toBe(5);
  });

  // Every kind of selector: each adds its own way to a workload's addresses.
  const input = queryInput(
    'flowlogs.vpc_flow_logs',
    { web: { cidrs: ['10.0.1.0/24'], interfaces: ['eni-0a1'], instances: ['i-0a1'], subnets: ['subnet-0a1'] } },
    windowEnding('2026-11-21', 14),
    ['10.0.0.0/16', '2600:1f18::/56'],
  );

  it("observe's query reads the table at most 10 times (it was 327 before each conversation's two ends, and each interface's addresses, were read in one pass)", () => {
    expect(inlinedScans(renderObserveQuery(input).sql, 'flowlogs.vpc_flow_logs')).toBeLessThanOrEqual(10);
  });

  it("report's query reads the table at most 70 times (it was 4,576 before volume anomalies moved out of SQL and the beacon's steps became windows; 73 before daily rows and beacons shared one join with the external addresses)", () => {
    const thresholds = { volumeFactor: 10, volumeMinBytes: 1, beaconMinFlows: 20, beaconMaxJitter: 0.1, beaconMaxBytesPerFlow: 16_384 };
    expect(inlinedScans(renderReportQuery({ ...input, rules: [], thresholds }).sql, 'flowlogs.vpc_flow_logs')).toBeLessThanOrEqual(70);
  });
});
