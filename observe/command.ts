/** `leastpath observe --env E [--to DATE] [--engine duckdb|athena]`: flow logs -> observed/E/*.yaml. */
import { AthenaClient } from '@aws-sdk/client-athena';
import { join } from 'node:path';
import { writeFilesAtomic, type PlannedFile, type WriteResult } from '../core/atomic.js';
import { addDays, epochOf, windowEnd } from '../core/dates.js';
import { journalPath } from '../core/writer.js';
import { UsageError, ValidationFailed } from '../core/errors.js';
import type { Progress } from '../core/progress.js';
import { compareText } from '../core/text.js';
import type { Finding } from '../core/findings.js';
import { locate } from '../core/yaml-source.js';
import { environmentOf, type LoadedEnvironment, type LoadResult } from '../model/read-repo.js';
import { loadRepo } from '../validate/load-repo.js';
import type { YamlSource } from '../core/yaml-source.js';
import type { Engine, EnvironmentConfig, ObservedFile } from '../model/types.js';
import { assembleObservedWithGaps, sourceStats, type CoverageGap, type ObserveRow } from './assemble.js';
import { DEFAULT_MIN_COVERAGE } from '../model/normalise.js';
import { withNames } from './dns-names.js';
import { readDnsLogs } from './dns-read.js';
import { runAthenaQuery } from './athena.js';
import { flowLogsTimeBound } from './duckdb.js';
import { awsServiceLookup } from './aws-ranges.js';
import { trackAthena, trackFiles } from './progress.js';
import { observedFiles, queryInput, readObservationsDuckDb, toRow, windowEnding, type Observation } from './observe.js';
import type { UnknownFields } from './duckdb.js';
import { flowLogsFor } from './sources.js';
import { renderObserveQuery } from './sql.js';

export interface ObserveOptions {
  root: string;
  env: string;
  today: string;
  to?: string;
  engine?: Engine;
  /** Injected in tests; by default an AthenaClient for the environment's region. */
  athenaClient?: AthenaClient;
  /** The repository as loaded already from `root` (`run`'s load), instead of loading it again (checked by forObserve). */
  loaded?: LoadResult;
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

/** Runs observe for one environment and writes its observed files (all of them, or none). */
export async function runObserve(opts: ObserveOptions): Promise<ObserveResult> {
  const observed = await observeEnvironment(opts);
  return withWrites(opts.root, observed, await writeFilesAtomic(observed.files, { journal: journalPath(opts.root) }));
}

/** An environment observed, its files not written yet: `run` writes every environment's at once. */
export interface ObservedEnvironment {
  result: Omit<ObserveResult, 'written' | 'unchanged'>;
  files: PlannedFile[];
}

/** The result of an observe whose files `writes` wrote (a write of these files, maybe of other environments' too). */
export function withWrites(root: string, observed: ObservedEnvironment, writes: WriteResult): ObserveResult {
  const mine = new Set(observed.files.map((f) => f.path));
  const rel = (p: string) => p.slice(root.length + 1).split('\\').join('/');
  return {
    ...observed.result,
    written: writes.written.filter((p) => mine.has(p)).map(rel),
    unchanged: writes.unchanged.filter((p) => mine.has(p)).map(rel),
  };
}

/**
 * Environment `env` of a load, for observe: errors in its own observed files do not stop observe, which rewrites
 * them (the errors tell the user to re-run observe); those files are left out of the evidence observe starts from,
 * rewritten from the flow logs alone. Errors in other environments' observed files are theirs (observe reads only
 * observed/<env>/). Any other error throws.
 */
export function forObserve(loaded: LoadResult, env: string): LoadedEnvironment & { replaced: string[] } {
  // A file of another run's window is valid evidence: observe rewrites it with its window and keeps its entries.
  const errors = loaded.findings.filter(
    (f) => f.severity === 'error' && f.rule !== 'observed-window-mixed' && (f.file.startsWith(`observed/${env}/`) || !f.file.startsWith('observed/')),
  );
  if (errors.some((f) => !f.file.startsWith('observed/'))) throw new ValidationFailed(loaded.findings);
  const picked = environmentOf(loaded, env);
  // Only the files observe writes: one per workload of the environment.
  const rewritten = new Set([...picked.environment.workloads.keys()].map((w) => `observed/${env}/${w}.yaml`));
  if (!errors.every((f) => rewritten.has(f.file))) throw new ValidationFailed(loaded.findings);
  const replaced = [...new Set(errors.map((f) => f.file))].sort(compareText);
  for (const [name, o] of picked.environment.observed) if (replaced.includes(o.source.file)) picked.environment.observed.delete(name);
  return { ...picked, replaced };
}

/** Reads one environment's flow logs and decides its observed files, writing nothing. */
export async function observeEnvironment(opts: ObserveOptions): Promise<ObservedEnvironment> {
  const to = windowEnd(opts.to, opts.today);
  const { environment: env, replaced } = forObserve(opts.loaded ?? (await loadRepo(opts.root, { today: opts.today, env: opts.env })), opts.env);
  const config = env.environment.value;
  const flowLogs = flowLogsFor(env, opts.engine);
  const { engine } = flowLogs;
  const window = windowEnding(to, config.window.days);
  // observed/ is evidence under review: a window that ends earlier than the committed one would replace it with less
  // (destinations seen only after the new end). (windowEnd refuses one that ends in the future.)
  const later = [...env.observed.values()].filter((o) => o.value.window.to > to).sort((a, b) => compareText(a.source.file, b.source.file))[0];
  if (later && !opts.rebuild) {
    throw new UsageError(
      `--to ${to} is before the end of the committed window of ${later.source.file} (${later.value.window.to}): observe only moves ` +
        `a window forward; to rebuild the evidence of an earlier window from the flow logs alone, run observe --rebuild --to ${to}`,
    );
  }

  let observation: Observation;
  const label = `observe ${opts.env}`;
  if (flowLogs.engine === 'duckdb') {
    const track = trackFiles(opts.progress, label);
    let ok = false;
    try {
      observation = await readObservationsDuckDb({
        root: opts.root,
        environmentFile: join(opts.root, env.environment.source.file),
        environmentSource: env.environment.source,
        config,
        window,
        previous: opts.rebuild ? [] : [...env.observed.values()].map((o) => o.value),
        onFiles: track.onFiles,
        onFileCounted: track.onFileCounted,
      });
      ok = true;
    } finally {
      track.finish(ok);
    }
  } else {
    const { athena } = flowLogs;
    const q = renderObserveQuery(queryInput(`${athena.database}.${athena.table}`, config.workloads, window, config.vpcCidrs, [...env.observed.values()].map((o) => o.value)));
    const client = opts.athenaClient ?? new AthenaClient({ region: config.region });
    const bound = flowLogsTimeBound(config.flowLogs.maxSeconds, env.environment.source.file);
    const track = trackAthena(opts.progress, label);
    const rows = await runAthenaQuery({
      client, config: athena, sql: q.sql, params: q.params,
      timeoutMs: bound.seconds * 1000, timeoutSetting: bound.setting, configFile: env.environment.source.file,
      onPoll: track.onPoll,
    });
    track.finish();
    observation = { rows: rows.map(toRow), malformed: [], files: 0 };
  }

  const stats = sourceStats(observation.rows, engine);
  // No records is not no traffic: a window without a single record is a delivery problem, and evidence stays as it is.
  if (stats.records === 0) throw new ValidationFailed([emptyWindowFinding(env, window, flowLogs, observation)]);
  const previous = new Map<string, ObservedFile>(opts.rebuild ? [] : [...env.observed].map(([name, o]) => [name, o.value]));
  const { files: assembled, gaps } = assembleObservedWithGaps({
    environment: opts.env,
    workloads: [...env.workloads.keys()],
    window,
    retainDays: config.window.retainDays,
    rows: observation.rows,
    engine,
    previous,
    serviceOf: awsServiceLookup(config.region),
    selectors: config.workloads,
    minCoverage: config.window.minCoverage ?? DEFAULT_MIN_COVERAGE,
  });
  const files = await namesFromDnsLogs(opts, env.environment.source, config, window, assembled, observation.rows);
  return {
    result: {
      environment: opts.env,
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
    files: observedFiles(opts.root, opts.env, files),
  };
}

/** The observed files with names and domains from the environment's query logs (unchanged without `dnsLogs`). */
async function namesFromDnsLogs(
  opts: ObserveOptions,
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
function emptyWindowFinding(env: LoadedEnvironment['environment'], window: { from: string; to: string }, flowLogs: ReturnType<typeof flowLogsFor>, o: Observation): Finding {
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
