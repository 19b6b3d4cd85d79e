/**
 * `leastpath run`: the whole pipeline over every environment (what `npm start` runs on the example), in a straight
 * line: load (validate), observe every environment, reload what observe wrote, plan, synth, report (hits, unused
 * rules, anomalies). Prints a short summary. Each load validates, and validation resolves every environment (rule
 * synth-ready); plan, synth and report take the second load's resolutions instead of resolving again.
 */
import { formatFinding } from '../core/findings.js';
import { ValidationFailed } from '../core/errors.js';
import { planEnvironment } from '../generators/plan-command.js';
import { breakLine } from '../generators/render-plan.js';
import type { Repo } from '../model/types.js';
import {
  coverageFindings,
  environmentForObserve,
  formatObserveSummary,
  observeEnvironment,
  writeObserved,
  type ObservedEnvironment,
  type ObserveResult,
} from '../observe/observe-command.js';
import { fallbackWarning, unknownFieldsWarning } from '../observe/duckdb-checks.js';
import { formatSynthSummary, synthStacks } from '../stacks/synth-command.js';
import { reportEnvironment, reportSummaryLine } from '../verify/report-command.js';
import { resolveForSynth } from './commands/synth.js';
import type { Context } from './context.js';
import { EXIT_FINDINGS, EXIT_OK } from './exit-codes.js';
import { environmentIn, loadRepository, loadValidRepository, resolutionIn, type LoadedRepository } from './load.js';

interface RunOptions {
  to?: string;
  env?: string;
}

export async function runPipeline(ctx: Context, opts: RunOptions): Promise<number> {
  const started = Date.now();
  const { root, today, progress } = ctx;
  const loadOptions = { today, ...(opts.env ? { env: opts.env } : {}) };
  const window = opts.to ? { to: opts.to } : {};

  const before = await loadRepository(root, loadOptions);
  printValidation(ctx, before);
  // Every environment is observed before any file is written: one that fails leaves every observed/ file as it was.
  // (Observe reads policies/ and the environment's own observed/ files only, which no other observe rewrites.)
  const observed: ObservedEnvironment[] = [];
  for (const name of promotionOrder(before.repo)) {
    observed.push(await observeEnvironment({ root, today, progress, ...window, ...environmentForObserve(before, name) }));
  }
  const gaps = printObserved(ctx, await writeObserved(root, observed));

  // The stages after observe must see the observed/ files it rewrote.
  const loaded = await loadValidRepository(root, loadOptions);
  const order = promotionOrder(loaded.repo);
  for (const name of order) {
    // The summary line needs no comparison with the committed baseline (git archive and a resolve per environment).
    const { plan } = await planEnvironment({
      root,
      environment: environmentIn(loaded, name),
      resolution: resolutionIn(loaded, name, today),
      today,
      baseline: false,
    });
    ctx.stdout(
      `plan ${name}: ${plan.summary.rules} rules (${plan.summary.intent} intent, ${plan.summary.observed} observed); ${breakLine(plan)}\n`,
    );
  }
  const { resolved } = await resolveForSynth(loaded, loadOptions);
  ctx.stdout(formatSynthSummary(await synthStacks({ root, resolved, manifest: opts.env === undefined })));
  for (const name of order) {
    const { report, fallback } = await reportEnvironment({
      root,
      environment: environmentIn(loaded, name),
      resolution: resolutionIn(loaded, name, today),
      today,
      progress,
      ...window,
    });
    if (fallback) ctx.stderr(fallbackWarning(fallback));
    ctx.stdout(reportSummaryLine(report));
  }
  ctx.stdout(`done in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  // Workloads whose logs stopped kept their earlier evidence; the pipeline went on, and the run says so by its exit.
  return gaps > 0 ? EXIT_FINDINGS : EXIT_OK;
}

/**
 * The validation line of the first load. Errors in observed files only do not stop the run: observe rewrites those
 * files (environmentForObserve), and the load after observe validates everything again.
 */
function printValidation(ctx: Context, { repo, findings }: LoadedRepository): void {
  if (findings.some((f) => f.severity === 'error' && !f.file.startsWith('observed/'))) throw new ValidationFailed(findings);
  const warnings = findings.filter((f) => f.severity !== 'error');
  for (const w of findings) ctx.stderr(formatFinding(w));
  const invalid = new Set(findings.filter((f) => f.severity === 'error').map((f) => f.file)).size;
  ctx.stdout(
    `validate: ${repo.environments.size} environment(s), ${warnings.length} warning(s)` +
      `${invalid > 0 ? `, ${invalid} invalid observed file(s) that observe rewrites` : ''}\n`,
  );
}

/** Each environment's observe summary and warnings; returns the number of coverage gaps (findings). */
function printObserved(ctx: Context, results: readonly ObserveResult[]): number {
  let gaps = 0;
  for (const r of results) {
    if (r.fallback) ctx.stderr(fallbackWarning(r.fallback));
    const found = coverageFindings(r, `policies/${r.environment}/environment.yaml`);
    for (const f of found) ctx.stderr(formatFinding(f));
    gaps += found.length;
    if (r.unknownFields) ctx.stderr(unknownFieldsWarning(r.unknownFields));
    ctx.stdout(formatObserveSummary(r));
  }
  return gaps;
}

/** Environments upstream first (dev before stg before prod), by `promoteFrom`; ties by name. */
function promotionOrder(repo: Repo): string[] {
  const names = [...repo.environments.keys()].sort();
  const depth = (name: string, seen: Set<string> = new Set()): number => {
    const from = repo.environments.get(name)?.environment.value.promoteFrom;
    if (!from || seen.has(name) || !repo.environments.has(from)) return 0;
    seen.add(name);
    return 1 + depth(from, seen);
  };
  return names
    .map((n) => ({ n, d: depth(n) }))
    .sort((a, b) => a.d - b.d || (a.n < b.n ? -1 : 1))
    .map((x) => x.n);
}
