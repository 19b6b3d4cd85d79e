/**
 * `leastpath report --env E [--format md|html|json] [--current FILE] [--to DATE]`: the edge of the report.
 * Loads the repository, takes the rules to count (resolved, or AWS's current ones from a file), runs the report
 * query on the environment's engine, and assembles the document; rendering is verify/render-report.ts.
 */
import type { AthenaClient } from '@aws-sdk/client-athena';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { addDays, epochOf, windowEnd } from '../core/dates.js';
import type { Progress } from '../core/progress.js';
import { dnsAllowlist } from '../generators/dns-plan.js';
import { querySource } from '../observe/dns-names.js';
import { readDnsLogs } from '../observe/dns-read.js';
import { dnsAnomalies, dnsReport } from './dns-report.js';
import { ValidationFailed, UsageError } from '../core/errors.js';
import { hasErrors, type Finding } from '../core/findings.js';
import type { ResolveResult } from '../generators/resolve.js';
import { DEFAULT_ANOMALIES } from '../model/normalise.js';
import type { Engine, EnvironmentPolicies } from '../model/types.js';
import { findingAt } from '../core/yaml-source.js';
import { unknownFieldsFinding } from '../observe/duckdb-checks.js';
import { queryInput, windowEnding } from '../observe/observe.js';
import { environmentFlowLogs, withFlowLogs } from '../observe/engine.js';
import { parseCurrentRules, rulesFromCurrent } from './current-rules.js';
import { decodeReportRow, renderReportQuery, type ReportQueryInput } from './report-sql.js';
import { assembleReport, ruleMatches, rulesFromResolved, type ReportDocument, type RuleToCount } from './report.js';

export interface ReportInput {
  root: string;
  /** The environment, from the CLI's load. */
  environment: EnvironmentPolicies;
  /** `environment` resolved (validation's resolution, handed on by the CLI): the rules to count, unless `current`; the DNS allowlist always. */
  resolution: ResolveResult;
  today: string;
  /** Last day of the window (default today). */
  to?: string;
  /** DescribeSecurityGroupRules JSON (a path, relative to the working directory). */
  current?: string;
  /** The Athena client for the athena engine (tests pass a mocked one); default: one for the environment's region. */
  athenaClient?: AthenaClient;
  /** The engine, over flowLogs.engine (report --engine). */
  engine?: Engine;
  /** Progress on stderr (files, lines, elapsed; Athena's state, bytes scanned and cost). */
  progress?: Progress;
}

interface ReportResult {
  report: ReportDocument;
  findings: Finding[];
  /** Why DuckDB's parallel CSV scan failed, when the files were read again without it (the report is complete). */
  fallback?: string;
  /** A person must look: there are anomalies, or rules outside leastpath on an enforced group (exit 1). */
  needsAttention: boolean;
}

/**
 * A warning per rule outside leastpath on an adopted group of an environment in `mode: enforce`, located at the
 * workload's securityGroup: there, the stack is meant to own egress, and a rule it did not write defeats it.
 */
function outsideFindings(report: ReportDocument, env: EnvironmentPolicies): Finding[] {
  if (env.environment.value.mode !== 'enforce') return [];
  return report.outside.map((r) => {
    const ports = r.fromPort === null ? 'every port' : r.fromPort === r.toPort ? `port ${r.fromPort}` : `ports ${r.fromPort}-${r.toPort}`;
    const what = `${r.ruleId ?? 'a rule'} (${r.protocol === '-1' ? 'every protocol' : `${r.protocol} ${ports}`} to ${r.peer})`;
    const how = r.outside?.revoke ? `revoke it once: ${r.outside.revoke}` : 'revoke it once (the file gives no SecurityGroupRuleId)';
    return findingAt(
      env.environment.source,
      ['workloads', r.group, 'securityGroup'],
      'outside-leastpath',
      `${r.outside!.groupId} has egress rule ${what} that leastpath did not write; the stack never removes it, so the group still allows it: ${how}`,
      'warning',
    );
  });
}

/** The report of one environment over the flow logs of the window (the CLI loads and resolves; this reads and counts). */
export async function reportEnvironment(opts: ReportInput): Promise<ReportResult> {
  const to = windowEnd(opts.to, opts.today);
  const { environment: env } = opts;
  const config = env.environment.value;
  const window = windowEnding(to, config.window.days);

  let rules: RuleToCount[];
  let rulesFrom: string;
  // The resolution's allowlist (the one synth writes) holds the adopted names where dnsFirewall.allowAdopted says so;
  // --current counts other rules, but the names are the VPC's firewall all the same.
  const allowlist = hasErrors(opts.resolution.findings) ? undefined : opts.resolution.resolved.dnsFirewall?.domains;
  const findings: Finding[] = [];
  if (opts.current) {
    const path = resolve(opts.current);
    const text = await readFile(path, 'utf8').catch((err: NodeJS.ErrnoException) => {
      throw new UsageError(`--current ${opts.current}: ${err.code === 'ENOENT' ? 'no such file' : err.message}`);
    });
    rules = rulesFromCurrent(parseCurrentRules(text, opts.current), config, env.prefixLists);
    rulesFrom = opts.current;
  } else {
    const resolved = opts.resolution;
    if (hasErrors(resolved.findings)) throw new ValidationFailed(resolved.findings);
    findings.push(...resolved.findings);
    rules = rulesFromResolved(resolved.resolved);
    rulesFrom = 'resolved';
  }

  const thresholds = config.anomalies ?? DEFAULT_ANOMALIES;
  const input = (relation: string): ReportQueryInput => ({
    // the open connections observe carried keep their initiator here too, so hits are counted on the same side
    ...queryInput(
      relation,
      config.workloads,
      window,
      config.vpcCidrs,
      [...env.observed.values()].map((o) => o.value),
    ),
    rules: ruleMatches(rules),
    thresholds,
  });
  const scanned = input('flow_logs');
  const source = {
    ...environmentFlowLogs(opts.root, env, opts.engine, opts.athenaClient),
    scan: { from: scanned.scanFrom, to: scanned.winTo },
  };
  const reportQuery = {
    render: (relation: string) => renderReportQuery(input(relation)),
    countFrom: scanned.winFrom,
    decode: decodeReportRow,
  };
  const { rows, fallback, unknownFields } = await withFlowLogs(source, { progress: opts.progress, label: `report ${env.name}` }, (logs) =>
    logs.read(reportQuery),
  );
  const report = assembleReport({ environment: env.name, window, rulesFrom, rules, rows, thresholds, selectors: config.workloads });
  await addNames(opts.root, env, window, report, allowlist);
  const outside = outsideFindings(report, env);
  // No records is not no traffic: a window without any is a delivery problem a person must look at.
  const empty = report.window.noRecords
    ? [
        findingAt(
          env.environment.source,
          ['flowLogs'],
          'empty-window',
          `no flow-log records in the window ${window.from} .. ${window.to}: no rule is reported unused (see the report's "no evidence" list)`,
        ),
      ]
    : [];
  return {
    report,
    findings: [...findings, ...empty, ...outside, ...(unknownFields ? [unknownFieldsFinding(unknownFields)] : [])],
    needsAttention: report.anomalies.length > 0 || outside.length > 0 || report.window.noRecords,
    ...(fallback !== undefined ? { fallback } : {}),
  };
}

/** The name layer of the report, from the environment's query logs (nothing without `dnsLogs`). */
async function addNames(
  root: string,
  env: EnvironmentPolicies,
  window: { from: string; to: string },
  report: ReportDocument,
  resolvedAllowlist?: string[],
): Promise<void> {
  const config = env.environment.value;
  const dns = await readDnsLogs({
    root,
    environmentFile: join(root, env.environment.source.file),
    environmentSource: env.environment.source,
    config,
    from: epochOf(window.from),
    to: epochOf(addDays(window.to, 1)),
  });
  if (!dns) return;
  const sourceOf = querySource(config, new Map([...env.observed].map(([w, o]) => [w, o.value.addresses ?? []])));
  const allowlist = resolvedAllowlist ?? dnsAllowlist(env);
  report.dns = dnsReport(dns, sourceOf, allowlist);
  report.anomalies.push(...dnsAnomalies(dns, sourceOf, allowlist));
  report.summary.anomalies = report.anomalies.length;
}

/** The one-line summary `run` prints per environment. */
export function reportSummaryLine(r: ReportDocument): string {
  const s = r.summary;
  return (
    `report ${r.environment}: ${r.window.from} .. ${r.window.to}: ${r.window.noRecords ? 'NO RECORDS in the window, ' : ''}${s.hits} hits counted on ${s.counted} rules` +
    `${s.notCounted > 0 ? ` (${s.notCounted} not counted)` : ''}, ${s.unused} unused${s.noEvidence > 0 ? `, ${s.noEvidence} without evidence` : ''}, ${s.rejected} rejected, ${s.anomalies} anomalies\n`
  );
}
