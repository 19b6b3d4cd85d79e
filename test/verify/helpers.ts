/** Test helpers for report: a small repository with inline flow-log records, run through the real query. */
import { join } from 'node:path';
import type { WorkloadSelector } from '../../model/types.js';
import { runReport } from '../../cli/commands/report.js';
import type { ReportDocument, ReportRule } from '../../verify/report.js';
import { writeOrg, type LogFile } from '../observe/helpers.js';

export const TODAY = '2026-11-23';

export interface ReportOrg {
  logs: LogFile[];
  /** Default: web = 10.0.1.0/24 with group sg-0web, api = eni-0a91 with group sg-0api. */
  workloads?: Record<string, Partial<WorkloadSelector>>;
  /** policies/dev/workloads/<name>.yaml `egress:` lines (default `egress: []`). */
  egress?: Record<string, string>;
  prefixLists?: string;
  /** environment.yaml `anomalies:` value (flow style). */
  anomalies?: string;
  /** The --current file's content (written to current.json). */
  current?: unknown;
  days?: number;
  /** flowLogs.engine athena (database flowlogs, table vpc_flow_logs); the files stay listed. */
  athena?: boolean;
  /** environment.yaml `mode` (default audit). */
  mode?: 'audit' | 'enforce';
}

export const WORKLOADS: Record<string, Partial<WorkloadSelector>> = {
  web: { cidrs: ['10.0.1.0/24'], securityGroup: 'sg-0aeb000000000000a' },
  api: { interfaces: ['eni-0a91'], securityGroup: 'sg-0a9100000000000a' },
};

/** The report tests' repository: writeOrg with groups adopted, observed destinations only reviewed, a --current file. */
export function writeReportOrg(org: ReportOrg): Promise<string> {
  return writeOrg({
    logs: org.logs,
    workloads: org.workloads ?? WORKLOADS,
    observedPolicy: 'review',
    ...(org.egress ? { egress: org.egress } : {}),
    ...(org.prefixLists ? { prefixLists: org.prefixLists } : {}),
    ...(org.anomalies ? { anomalies: org.anomalies } : {}),
    ...(org.days !== undefined ? { days: org.days } : {}),
    ...(org.mode ? { mode: org.mode } : {}),
    ...(org.athena ? { athena: true, engine: 'athena' as const } : {}),
    ...(org.current !== undefined ? { extraFiles: { 'current.json': JSON.stringify(org.current) } } : {}),
  });
}

/** `leastpath report --env dev --to 2026-11-21 [--current current.json]` on a repository from writeReportOrg. */
export async function reportOf(org: ReportOrg): Promise<ReportDocument> {
  const root = await writeReportOrg(org);
  const { report } = await runReport({
    root,
    env: 'dev',
    today: TODAY,
    to: '2026-11-21',
    ...(org.current !== undefined ? { current: join(root, 'current.json') } : {}),
  });
  return report;
}

/** `group direction peer ports` of a rule, for compact assertions. */
export function ruleKey(r: ReportRule): string {
  const ports =
    r.protocol === '-1'
      ? 'all'
      : r.fromPort === null
        ? r.protocol
        : `${r.protocol}/${r.fromPort}${r.toPort !== r.fromPort ? `-${r.toPort}` : ''}`;
  return `${r.group} ${r.direction} ${r.peer} ${ports}`;
}

/** Rule key -> hits (null: not counted). */
export function hitsByRule(doc: ReportDocument): Record<string, number | null> {
  return Object.fromEntries(doc.rules.map((r) => [`${ruleKey(r)}${r.ruleId ? ` ${r.ruleId}` : ''}`, r.hits]));
}

/** A DescribeSecurityGroupRules entry. */
export function sgRule(
  id: string,
  group: string,
  egress: boolean,
  protocol: string,
  from: number | undefined,
  to: number | undefined,
  peer: Record<string, unknown>,
) {
  return {
    SecurityGroupRuleId: id,
    GroupId: group,
    IsEgress: egress,
    IpProtocol: protocol,
    ...(from !== undefined ? { FromPort: from, ToPort: to } : { FromPort: -1, ToPort: -1 }),
    ...peer,
  };
}
