/**
 * One measured run of report's engine over a data set, in its own process like the engine (engine-child.ts): the
 * same file resolution, checks and read as `leastpath report` (readFlowLogs and the report query), a few egress
 * rules per workload to count hits on, and the report assembled (nothing written). Prints one JSON line.
 *
 * Usage: node --import tsx bench/observe/report-child.ts <data-set dir>
 */
import { join, resolve } from 'node:path';
import { DEFAULT_ANOMALIES } from '../../model/normalise.js';
import { readFlowLogs } from '../../observe/duckdb-checks.js';
import { openDuckDb, query } from '../../observe/duckdb-session.js';
import { resolveFiles } from '../../observe/duckdb-view.js';
import { queryInput, rangeMatch, windowEnding } from '../../observe/observe.js';
import { countFileLines } from '../../observe/sources.js';
import { assembleReport, ruleMatches, type RuleToCount } from '../../verify/report.js';
import { decodeReportRow } from '../../verify/report-sql.js';
import { renderReportQuery } from '../../verify/report-sql.js';
import { dataSetArg, measured, type ChildUsage } from './child.js';
import { benchEnvironment, WINDOW_DAYS, WINDOW_TO } from './generate.js';

export interface ReportResult extends ChildUsage {
  rules: number;
  hits: number;
  anomalies: number;
}

/** A rule of `workload` to `cidr` on one tcp/udp port. */
function rule(workload: string, protocol: 'tcp' | 'udp', port: number, cidr: string): RuleToCount {
  return {
    rule: { group: workload, direction: 'egress', protocol, fromPort: port, toPort: port, peer: cidr, why: 'bench' },
    match: {
      workload,
      direction: 'egress',
      protocol: protocol === 'tcp' ? 6 : 17,
      fromPort: port,
      toPort: port,
      peer: rangeMatch([cidr]),
      peerWorkloads: [],
    },
  };
}

async function main(): Promise<void> {
  const dir = resolve(dataSetArg('report-child.ts'));
  const config = benchEnvironment([join(dir, '*.log.gz')]);
  const window = windowEnding(WINDOW_TO, WINDOW_DAYS);
  const rules = Object.keys(config.workloads).flatMap((w) => [
    rule(w, 'tcp', 443, '0.0.0.0/0'),
    rule(w, 'tcp', 5432, '10.50.10.0/24'),
    rule(w, 'tcp', 6379, '10.50.11.0/24'),
    rule(w, 'udp', 53, '0.0.0.0/0'),
  ]);
  const { value, usage } = await measured(async () => {
    const duck = await openDuckDb();
    const { connection } = duck;
    try {
      const files = await resolveFiles(connection, config.flowLogs.files, dir, dir);
      const input = {
        ...queryInput('flow_logs', config.workloads, window, config.vpcCidrs),
        rules: ruleMatches(rules),
        thresholds: DEFAULT_ANOMALIES,
      };
      const q = renderReportQuery(input);
      const { value: raw } = await readFlowLogs(
        connection,
        files,
        input.winFrom,
        () => query(connection, q.sql, q.params),
        countFileLines(files, 2),
      );
      return assembleReport({
        environment: config.environment,
        window,
        rulesFrom: 'resolved',
        rules,
        rows: raw.map(decodeReportRow),
        thresholds: DEFAULT_ANOMALIES,
        selectors: config.workloads,
      });
    } finally {
      duck.close();
    }
  });
  const result: ReportResult = {
    ...usage,
    rules: value.rules.length,
    hits: value.rules.reduce((n, r) => n + (r.hits ?? 0), 0),
    anomalies: value.anomalies.length,
  };
  console.log(JSON.stringify(result));
}

await main();
