/**
 * `leastpath report --env E [--format md|html|json] [--current FILE] [--to DATE]`: the edge of the report.
 * Loads the repository, takes the rules to count (resolved, or AWS's current ones from a file), runs the report
 * query on the environment's engine, and assembles the document; rendering is verify/render-report.ts.
 */
import type { AthenaClient } from '@aws-sdk/client-athena';
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { addDays, epochOf, windowEnd } from '../core/dates.js';
import type { Progress } from '../core/progress.js';
import { dnsAllowlist } from '../generators/dns-plan.js';
import { querySource } from '../observe/dns-names.js';
import { readDnsLogs } from '../observe/dns-read.js';
import { dnsAnomalies, dnsReport } from './dns-report.js';
import { ValidationFailed, UsageError } from '../core/errors.js';
import { hasErrors, type Finding } from '../core/findings.js';
import { resolveFromRepo } from '../generators/plan-command.js';
import type { ResolveResult } from '../generators/resolve.js';
import { environmentOf, loadEnvironmentOrThrow, type LoadResult } from '../model/read-repo.js';
import { DEFAULT_ANOMALIES } from '../model/normalise.js';
import type { Engine, EnvironmentPolicies } from '../model/types.js';
import { findingAt, type YamlSource } from '../core/yaml-source.js';
import { flowLogsTimeBound, openDuckDb, query, readFlowLogs, resolveFiles, unknownFieldsFinding, withTimeBound, type UnknownFields } from '../observe/duckdb.js';
import { queryInput, windowEnding } from '../observe/observe.js';
import { filesForRange } from '../observe/prune.js';
import { trackAthena, trackFiles } from '../observe/progress.js';
import { countFileLines, flowLogsFor, type EngineFlowLogs } from '../observe/sources.js';
import { renderReportQuery, type ReportQueryInput } from './report-sql.js';
import {
  assembleReport,
  parseCurrentRules,
  ruleMatches,
  rulesFromCurrent,
  rulesFromResolved,
  toReportRow,
  type ReportDocument,
  type ReportRow,
  type RuleToCount,
} from './report.js';

interface ReportOptions {
  root: string;
  env: string;
  today: string;
  /** Last day of the window (default today). */
  to?: string;
  /** DescribeSecurityGroupRules JSON (a path, relative to the working directory). */
  current?: string;
  /** The Athena client for the athena engine (tests pass a mocked one); default: one for the environment's region. */
  athenaClient?: AthenaClient;
  /** The engine, over flowLogs.engine (report --engine). */
  engine?: Engine;
  /** The repository as loaded and validated already from `root` (`run`'s load), instead of loading it again; its warnings are passed on. */
  loaded?: LoadResult;
  /** `env` resolved already from `loaded` (resolveFromRepo), instead of resolving it again (not read with `current`). */
  resolution?: ResolveResult;
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

export async function runReport(opts: ReportOptions): Promise<ReportResult> {
  const to = windowEnd(opts.to, opts.today);
  const { repo, environment: env, findings: warnings } = opts.loaded
    ? environmentOf(opts.loaded, opts.env)
    : await loadEnvironmentOrThrow(opts.root, opts.env, opts.today);
  const config = env.environment.value;
  const window = windowEnding(to, config.window.days);

  let rules: RuleToCount[];
  let rulesFrom: string;
  const findings: Finding[] = [...warnings];
  if (opts.current) {
    const path = resolve(opts.current);
    const text = await readFile(path, 'utf8').catch((err: NodeJS.ErrnoException) => {
      throw new UsageError(`--current ${opts.current}: ${err.code === 'ENOENT' ? 'no such file' : err.message}`);
    });
    rules = rulesFromCurrent(parseCurrentRules(text, opts.current), config, env.prefixLists);
    rulesFrom = opts.current;
  } else {
    const resolved = opts.resolution ?? resolveFromRepo(repo, opts.env, opts.today);
    if (hasErrors(resolved.findings)) throw new ValidationFailed(resolved.findings);
    findings.push(...resolved.findings);
    rules = rulesFromResolved(resolved.resolved);
    rulesFrom = 'resolved';
  }

  const thresholds = config.anomalies ?? DEFAULT_ANOMALIES;
  const input = (relation: string): ReportQueryInput => ({
    // the open connections observe carried keep their initiator here too, so hits are counted on the same side
    ...queryInput(relation, config.workloads, window, config.vpcCidrs, [...env.observed.values()].map((o) => o.value)),
    rules: ruleMatches(rules),
    thresholds,
  });
  const flowLogs = flowLogsFor(env, opts.engine);
  const { rows, fallback, unknownFields } =
    flowLogs.engine === 'athena'
      ? { rows: await readReportAthena(flowLogs, env.environment.source.file, config.region, input, opts.athenaClient, opts.progress && trackAthena(opts.progress, `report ${opts.env}`)), fallback: undefined, unknownFields: undefined }
      : await readReportDuckDb(opts.root, env.environment.source, flowLogs, input, opts.progress && trackFiles(opts.progress, `report ${opts.env}`));
  const report = assembleReport({ environment: opts.env, window, rulesFrom, rules, rows, thresholds, selectors: config.workloads });
  await addNames(opts.root, env, window, report);
  const outside = outsideFindings(report, env);
  // No records is not no traffic: a window without any is a delivery problem a person must look at.
  const empty = report.window.noRecords
    ? [findingAt(env.environment.source, ['flowLogs'], 'empty-window', `no flow-log records in the window ${window.from} .. ${window.to}: no rule is reported unused (see the report's "no evidence" list)`)]
    : [];
  return {
    report,
    findings: [...findings, ...empty, ...outside, ...(unknownFields ? [unknownFieldsFinding(unknownFields)] : [])],
    needsAttention: report.anomalies.length > 0 || outside.length > 0 || report.window.noRecords,
    ...(fallback !== undefined ? { fallback } : {}),
  };
}

/** The name layer of the report, from the environment's query logs (nothing without `dnsLogs`). */
async function addNames(root: string, env: EnvironmentPolicies, window: { from: string; to: string }, report: ReportDocument): Promise<void> {
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
  const allowlist = dnsAllowlist(env);
  report.dns = dnsReport(dns, sourceOf, allowlist);
  report.anomalies.push(...dnsAnomalies(dns, sourceOf, allowlist));
  report.summary.anomalies = report.anomalies.length;
}

async function readReportDuckDb(
  root: string,
  environment: YamlSource,
  flowLogs: EngineFlowLogs,
  input: (relation: string) => ReportQueryInput,
  track?: ReturnType<typeof trackFiles>,
): Promise<{ rows: ReportRow[]; fallback: string | undefined; unknownFields: UnknownFields | undefined }> {
  const duck = await openDuckDb({ memoryLimit: flowLogs.memoryLimit });
  const { connection } = duck;
  let ok = false;
  try {
    const qi = input('flow_logs');
    const files = await filesForRange(await resolveFiles(connection, flowLogs.files, dirname(join(root, environment.file)), root, environment), { from: qi.scanFrom, to: qi.winTo }, connection);
    track?.onFiles(files.length);
    const q = renderReportQuery(qi);
    const bound = flowLogsTimeBound(flowLogs.maxSeconds, environment.file);
    const { value, fallback, unknownFields } = await readFlowLogs(connection, files, qi.winFrom, () => withTimeBound(connection, bound, () => query(connection, q.sql, q.params)), countFileLines(files, 2, track?.onFileCounted));
    ok = true;
    return { rows: value.map(toReportRow), fallback, unknownFields };
  } finally {
    track?.finish(ok);
    duck.close();
  }
}

async function readReportAthena(
  flowLogs: EngineFlowLogs & { engine: 'athena' },
  environmentFile: string,
  region: string,
  input: (relation: string) => ReportQueryInput,
  client?: AthenaClient,
  track?: ReturnType<typeof trackAthena>,
): Promise<ReportRow[]> {
  const sdk = await import('@aws-sdk/client-athena');
  const { runAthenaQuery } = await import('../observe/athena.js');
  const { athena } = flowLogs;
  const q = renderReportQuery(input(`${athena.database}.${athena.table}`));
  const bound = flowLogsTimeBound(flowLogs.maxSeconds, environmentFile);
  const rows = await runAthenaQuery({
    client: client ?? new sdk.AthenaClient({ region }), config: athena, sql: q.sql, params: q.params,
    timeoutMs: bound.seconds * 1000, timeoutSetting: bound.setting, configFile: environmentFile,
    ...(track ? { onPoll: track.onPoll } : {}),
  });
  track?.finish();
  return rows.map(toReportRow);
}

/** The one-line summary `run` prints per environment. */
export function reportSummaryLine(r: ReportDocument): string {
  const s = r.summary;
  return (
    `report ${r.environment}: ${r.window.from} .. ${r.window.to}: ${r.window.noRecords ? 'NO RECORDS in the window, ' : ''}${s.hits} hits counted on ${s.counted} rules` +
    `${s.notCounted > 0 ? ` (${s.notCounted} not counted)` : ''}, ${s.unused} unused${s.noEvidence > 0 ? `, ${s.noEvidence} without evidence` : ''}, ${s.rejected} rejected, ${s.anomalies} anomalies\n`
  );
}
