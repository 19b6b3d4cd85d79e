/** `leastpath observe --env E [--to DATE] [--engine duckdb|athena]`: flow logs -> observed/E/*.yaml. */
import type { AthenaClient } from '@aws-sdk/client-athena';
import { join } from 'node:path';
import { writeFilesAtomic, type PlannedFile, type WriteResult } from '../core/atomic.js';
import { addDays, epochOf, windowEnd } from '../core/dates.js';
import { journalPath } from '../core/writer.js';
import { UsageError, ValidationFailed } from '../core/errors.js';
import type { Progress } from '../core/progress.js';
import { compareText } from '../core/text.js';
import type { Finding } from '../core/findings.js';
import { locate } from '../core/yaml-source.js';
import type { LoadResult } from '../model/read-repo.js';
import type { YamlSource } from '../core/yaml-source.js';
import type { Engine, EnvironmentConfig, EnvironmentPolicies, ObservedFile } from '../model/types.js';
import { assembleObservedWithGaps, sourceStats, type CoverageGap, type ObserveRow } from './assemble.js';
import { DEFAULT_MIN_COVERAGE } from '../model/normalise.js';
import { withNames } from './dns-names.js';
import { readDnsLogs } from './dns-read.js';
import { awsServiceLookup } from './aws-ranges.js';
import { observedFiles, readObservations, windowEnding, type Observation } from './observe.js';
import type { UnknownFields } from './duckdb-checks.js';
import { environmentFlowLogs } from './engine.js';
import type { EngineFlowLogs } from './sources.js';

export interface ObserveInput {
  root: string;
  /** The environment to observe, as environmentForObserve picked it from the CLI's load. */
  environment: EnvironmentPolicies;
  /** Its observed files that were invalid (left out of `environment`): rewritten from the flow logs alone. */
  replaced: string[];
  today: string;
  to?: string;
  engine?: Engine;
  /** Injected in tests; by default an AthenaClient for the environment's region. */
  athenaClient?: AthenaClient;
  /** Progress on stderr (files, lines, elapsed; Athena's state, bytes scanned and cost). */
  progress?: Progress;
  /**
   * Rebuild the evidence of this window from the flow logs alone: a window that ends before the committed one is
   * allowed, and nothing of the committed files is kept.
   */
  rebuild?: boolean;
}

export interface ObserveResult {
  environment: string;
  window: { from: string; to: string };
  engine: Engine;
  files: number;
  records: number;
  skippedWindows: number;
  malformed: { file: string; line: number; message: string }[];
  /** Why DuckDB's parallel CSV scan failed, when the files were read again without it (the result is complete). */
  fallback?: string;
  /** Header fields of the flow logs that leastpath does not know, read past (one warning). */
  unknownFields?: UnknownFields;
  /** Observed files that were invalid (hand-edited), rewritten from the flow logs without their earlier evidence. */
  replaced: string[];
  written: string[];
  unchanged: string[];
  workloads: { workload: string; egress: number; rejected: number; covered?: number; days?: number }[];
  /** Workloads whose interfaces logged less of the window than window.minCoverage: their earlier evidence was kept. */
  gaps: CoverageGap[];
  /** The evidence was rebuilt for this window (`--rebuild`), nothing of the earlier files kept. */
  rebuilt?: boolean;
}

/** An environment observed, its files not written yet. */
export interface ObservedEnvironment {
  result: Omit<ObserveResult, 'written' | 'unchanged'>;
  files: PlannedFile[];
}

/**
 * Writes the files of every environment observed at once (all of them, or none: `run` observes every environment
 * before it writes) and returns each environment's result.
 */
export async function writeObserved(root: string, observed: readonly ObservedEnvironment[]): Promise<ObserveResult[]> {
  const writes = await writeFilesAtomic(
    observed.flatMap((o) => o.files),
    { journal: journalPath(root) },
  );
  return observed.map((o) => withWrites(root, o, writes));
}

/** The result of an observe whose files `writes` wrote (a write of these files, maybe of other environments' too). */
function withWrites(root: string, observed: ObservedEnvironment, writes: WriteResult): ObserveResult {
  const mine = new Set(observed.files.map((f) => f.path));
  const rel = (p: string) =>
    p
      .slice(root.length + 1)
      .split('\\')
      .join('/');
  return {
    ...observed.result,
    written: writes.written.filter((p) => mine.has(p)).map(rel),
    unchanged: writes.unchanged.filter((p) => mine.has(p)).map(rel),
  };
}

/**
 * Environment `environmentName` of a load, for observe: errors in its own observed files do not stop observe, which
 * rewrites them (the errors tell the user to re-run observe); those files are left out of the evidence observe starts
 * from, rewritten from the flow logs alone. Errors in other environments' observed files are theirs (observe reads
 * only observed/<env>/). Any other error throws.
 */
export function environmentForObserve(
  loaded: LoadResult,
  environmentName: string,
): { environment: EnvironmentPolicies; replaced: string[] } {
  // A file of another run's window is valid evidence: observe rewrites it with its window and keeps its entries.
  const errors = loaded.findings.filter(
    (f) =>
      f.severity === 'error' &&
      f.rule !== 'observed-window-mixed' &&
      (f.file.startsWith(`observed/${environmentName}/`) || !f.file.startsWith('observed/')),
  );
  if (errors.some((f) => !f.file.startsWith('observed/'))) throw new ValidationFailed(loaded.findings);
  const environment = loaded.repo.environments.get(environmentName);
  if (!environment) throw new UsageError(`environment ${JSON.stringify(environmentName)} could not be loaded`);
  // Only the files observe writes: one per workload of the environment.
  const rewritten = new Set([...environment.workloads.keys()].map((w) => `observed/${environmentName}/${w}.yaml`));
  if (!errors.every((f) => rewritten.has(f.file))) throw new ValidationFailed(loaded.findings);
  const replaced = [...new Set(errors.map((f) => f.file))].sort(compareText);
  for (const [name, o] of environment.observed) if (replaced.includes(o.source.file)) environment.observed.delete(name);
  return { environment, replaced };
}

/** Reads one environment's flow logs and decides its observed files, writing nothing. */
export async function observeEnvironment(opts: ObserveInput): Promise<ObservedEnvironment> {
  const to = windowEnd(opts.to, opts.today);
  const { environment, replaced } = opts;
  const environmentName = environment.name;
  const config = environment.environment.value;
  const source = environmentFlowLogs(opts.root, environment, opts.engine, opts.athenaClient);
  const { flowLogs } = source;
  const { engine } = flowLogs;
  const window = windowEnding(to, config.window.days);
  // observed/ is evidence under review: a window that ends earlier than the committed one would replace it with less
  // (destinations seen only after the new end). (windowEnd refuses one that ends in the future.)
  const later = [...environment.observed.values()]
    .filter((o) => o.value.window.to > to)
    .sort((a, b) => compareText(a.source.file, b.source.file))[0];
  if (later && !opts.rebuild) {
    throw new UsageError(
      `--to ${to} is before the end of the committed window of ${later.source.file} (${later.value.window.to}): observe only moves ` +
        `a window forward; to rebuild the evidence of an earlier window from the flow logs alone, run observe --rebuild --to ${to}`,
    );
  }

  const observation = await readObservations({
    source,
    config,
    window,
    // --rebuild keeps nothing of the earlier files, their carried decisions included, on every engine.
    previous: opts.rebuild ? [] : [...environment.observed.values()].map((o) => o.value),
    shown: { progress: opts.progress, label: `observe ${environmentName}` },
  });

  const stats = sourceStats(observation.rows, engine);
  // No records is not no traffic: a window without a single record is a delivery problem, and evidence stays as it is.
  if (stats.records === 0) throw new ValidationFailed([emptyWindowFinding(environment, window, flowLogs, observation)]);
  const previous = new Map<string, ObservedFile>(opts.rebuild ? [] : [...environment.observed].map(([name, o]) => [name, o.value]));
  const { files: assembled, gaps } = assembleObservedWithGaps({
    environment: environmentName,
    workloads: [...environment.workloads.keys()],
    window,
    retainDays: config.window.retainDays,
    rows: observation.rows,
    engine,
    previous,
    serviceOf: awsServiceLookup(config.region),
    selectors: config.workloads,
    minCoverage: config.window.minCoverage ?? DEFAULT_MIN_COVERAGE,
  });
  const files = await namesFromDnsLogs(opts, environment.environment.source, config, window, assembled, observation.rows);
  return {
    result: {
      environment: environmentName,
      window,
      engine,
      files: observation.files,
      records: stats.records,
      skippedWindows: stats.skippedWindows,
      malformed: observation.malformed,
      ...(observation.fallback !== undefined ? { fallback: observation.fallback } : {}),
      ...(observation.unknownFields ? { unknownFields: observation.unknownFields } : {}),
      replaced,
      workloads: [...files.values()].map((o) => ({
        workload: o.workload,
        egress: o.egress.length,
        rejected: o.rejected.length,
        ...(o.coverage ? { covered: o.coverage.covered, days: o.coverage.days } : {}),
      })),
      gaps,
      ...(opts.rebuild ? { rebuilt: true } : {}),
    },
    files: observedFiles(opts.root, environmentName, files),
  };
}

/** The observed files with names and domains from the environment's query logs (unchanged without `dnsLogs`). */
async function namesFromDnsLogs(
  opts: ObserveInput,
  source: YamlSource,
  config: EnvironmentConfig,
  window: { from: string; to: string },
  files: Map<string, ObservedFile>,
  rows: readonly ObserveRow[],
): Promise<Map<string, ObservedFile>> {
  const dns = await readDnsLogs({
    root: opts.root,
    environmentFile: join(opts.root, source.file),
    environmentSource: source,
    config,
    from: epochOf(window.from),
    to: epochOf(addDays(window.to, 1)),
  });
  return dns ? withNames({ files, rows, dns, config }) : files;
}

/** The human summary of an observe run. */
export function formatObserveSummary(r: ObserveResult): string {
  const lines = [
    `observe ${r.environment}: ${r.window.from} .. ${r.window.to} (${r.engine}), ${r.records} records from ${r.files} files` +
      (r.skippedWindows > 0 ? `, ${r.skippedWindows} SKIPDATA windows (the window has holes)` : '') +
      (r.malformed.length > 0 ? `, ${r.malformed.length} malformed lines skipped` : ''),
  ];
  for (const w of r.workloads) {
    const covered = w.covered !== undefined ? `, ${w.covered} of ${w.days} days covered` : '';
    lines.push(`  ${w.workload}: ${w.egress} egress destinations, ${w.rejected} rejected${covered}`);
  }
  if (r.rebuilt) lines.push('  rebuilt from the flow logs alone (--rebuild): nothing of the earlier observed files kept');
  for (const f of r.replaced) lines.push(`  ${f}: was invalid; rewritten from the flow logs, its earlier destinations not retained`);
  lines.push(`  ${r.written.length} file(s) written, ${r.unchanged.length} unchanged`);
  return `${lines.join('\n')}\n`;
}

/** The findings of an observe run that a person must act on: workloads whose interfaces were (nearly) silent. */
export function coverageFindings(r: Pick<ObserveResult, 'environment' | 'gaps'>, envFile: string): Finding[] {
  return r.gaps.map((g) => ({
    rule: 'coverage-gap',
    severity: 'error' as const,
    file: `observed/${r.environment}/${g.workload}.yaml`,
    line: 1,
    col: 1,
    path: 'coverage',
    message:
      `${g.workload}'s interfaces logged records on ${g.covered} of ${g.days} days of the window (below window.minCoverage of ${envFile}): ` +
      (g.kept ? `its evidence of ${g.kept.from} .. ${g.kept.to} was kept unchanged` : 'it has no earlier evidence to keep') +
      `; check the flow-log delivery of its interfaces, or mark it retired: true in ${envFile} to let its evidence go`,
  }));
}

/** The finding of a window without records: at the flowLogs patterns, naming them, the files and the newest record. */
function emptyWindowFinding(
  env: EnvironmentPolicies,
  window: { from: string; to: string },
  flowLogs: EngineFlowLogs,
  o: Observation,
): Finding {
  const config = env.environment.value;
  const file = env.environment.source.file;
  const at = locate(env.environment.source, flowLogs.engine === 'duckdb' ? ['flowLogs', 'files'] : ['flowLogs', 'athena']);
  const where =
    flowLogs.engine === 'duckdb'
      ? `patterns ${config.flowLogs.files.map((f) => JSON.stringify(f)).join(', ')} matched ${o.files} file(s)` +
        (o.fileNames && o.fileNames.length > 0 ? ` (${listSome(o.fileNames)})` : '') +
        `; newest record seen: ${o.newest ?? 'none'}`
      : `the Athena table ${flowLogs.athena.database}.${flowLogs.athena.table} has no record in the window's partitions`;
  return {
    rule: 'empty-window',
    severity: 'error',
    file,
    ...at,
    path: flowLogs.engine === 'duckdb' ? 'flowLogs.files' : 'flowLogs.athena',
    message:
      `no flow-log records in the window ${window.from} .. ${window.to}: ${where}. No records is not no traffic: ` +
      'observed/ was left as it was; check the flow-log delivery (bucket policy, prefix, the patterns) or --to',
  };
}

/** The first few names of a list and how many more. */
function listSome(names: readonly string[], n = 3): string {
  return names.length <= n ? names.join(', ') : `${names.slice(0, n).join(', ')} and ${names.length - n} more`;
}
