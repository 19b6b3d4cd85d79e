/** `leastpath observe --env E [--to DATE] [--engine duckdb|athena]`: flow logs -> observed/E/*.yaml. */
import { AthenaClient } from '@aws-sdk/client-athena';
import { join } from 'node:path';
import { writeFilesAtomic, type PlannedFile, type WriteResult } from '../core/atomic.js';
import { addDays, epochOf, windowEnd } from '../core/dates.js';
import { UsageError, ValidationFailed } from '../core/errors.js';
import { compareText } from '../core/text.js';
import { environmentOf, loadRepo, type LoadedEnvironment, type LoadResult } from '../model/read-repo.js';
import type { YamlSource } from '../core/yaml-source.js';
import type { Engine, EnvironmentConfig, ObservedFile } from '../model/types.js';
import { assembleObserved, sourceStats, type ObserveRow } from './assemble.js';
import { withNames } from './dns-names.js';
import { readDnsLogs } from './dns-read.js';
import { runAthenaQuery } from './athena.js';
import { awsServiceLookup } from './aws-ranges.js';
import { observedFiles, queryInput, readObservationsDuckDb, toRow, windowEnding, type Observation } from './observe.js';
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
  /** Observed files that were invalid (hand-edited), rewritten from the flow logs without their earlier evidence. */
  replaced: string[];
  written: string[];
  unchanged: string[];
  workloads: { workload: string; egress: number; rejected: number }[];
}

/** Runs observe for one environment and writes its observed files (all of them, or none). */
export async function runObserve(opts: ObserveOptions): Promise<ObserveResult> {
  const observed = await observeEnvironment(opts);
  return withWrites(opts.root, observed, await writeFilesAtomic(observed.files));
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
  const errors = loaded.findings.filter((f) => f.severity === 'error' && (f.file.startsWith(`observed/${env}/`) || !f.file.startsWith('observed/')));
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
  if (later) {
    throw new UsageError(
      `--to ${to} is before the end of the committed window of ${later.source.file} (${later.value.window.to}): observe only moves ` +
        `a window forward; to look at an earlier window, use report --to, or observe into a copy of the repository`,
    );
  }

  let observation: Observation;
  if (flowLogs.engine === 'duckdb') {
    observation = await readObservationsDuckDb({
      root: opts.root,
      environmentFile: join(opts.root, env.environment.source.file),
      environmentSource: env.environment.source,
      config,
      window,
    });
  } else {
    const { athena } = flowLogs;
    const q = renderObserveQuery(queryInput(`${athena.database}.${athena.table}`, config.workloads, window, config.vpcCidrs));
    const client = opts.athenaClient ?? new AthenaClient({ region: config.region });
    const rows = await runAthenaQuery({ client, config: athena, sql: q.sql, params: q.params });
    observation = { rows: rows.map(toRow), malformed: [], files: 0 };
  }

  const previous = new Map<string, ObservedFile>([...env.observed].map(([name, o]) => [name, o.value]));
  const assembled = assembleObserved({
    environment: opts.env,
    workloads: [...env.workloads.keys()],
    window,
    retainDays: config.window.retainDays,
    rows: observation.rows,
    engine,
    previous,
    serviceOf: awsServiceLookup(config.region),
  });
  const files = await namesFromDnsLogs(opts, env.environment.source, config, window, assembled, observation.rows);
  const stats = sourceStats(observation.rows, engine);
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
      replaced,
      workloads: [...files.values()].map((o) => ({ workload: o.workload, egress: o.egress.length, rejected: o.rejected.length })),
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
  for (const w of r.workloads) lines.push(`  ${w.workload}: ${w.egress} egress destinations, ${w.rejected} rejected`);
  for (const f of r.replaced) lines.push(`  ${f}: was invalid; rewritten from the flow logs, its earlier destinations not retained`);
  lines.push(`  ${r.written.length} file(s) written, ${r.unchanged.length} unchanged`);
  return `${lines.join('\n')}\n`;
}
