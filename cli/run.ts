/**
 * `leastpath run`: the whole pipeline over every environment (what `npm start` runs on the example):
 * validate, observe each environment, plan, synth, report (hits, unused rules, anomalies), then the later stages as they exist. Prints a short summary.
 * The repository is loaded twice: for validation and observe, then again for the stages after observe, which must
 * see the observed/ files it rewrote. Each environment is resolved once, by plan, and synth and report reuse it.
 */
import { formatFinding } from '../core/findings.js';
import { ValidationFailed } from '../core/errors.js';
import { loadRepo, loadRepoOrThrow } from '../validate/load-repo.js';
import { resolveFromRepo, runPlan } from '../generators/plan-command.js';
import type { ResolveResult } from '../generators/resolve.js';
import { formatSynthSummary, runSynth } from '../stacks/command.js';
import { breakLine } from '../generators/render-plan.js';
import { coverageFindings, formatObserveSummary, observeEnvironment, withWrites, type ObservedEnvironment } from '../observe/command.js';
import { writeFilesAtomic } from '../core/atomic.js';
import { journalPath } from '../core/writer.js';
import { fallbackWarning, unknownFieldsWarning } from '../observe/duckdb.js';
import { reportSummaryLine, runReport } from '../verify/report-command.js';
import type { Repo } from '../model/types.js';
import type { Context } from './context.js';
import { EXIT_FINDINGS, EXIT_OK } from './exit-codes.js';

interface RunOptions {
  to?: string;
  env?: string;
}

export async function runPipeline(ctx: Context, opts: RunOptions): Promise<number> {
  const started = Date.now();
  const loadOptions = { today: ctx.today, ...(opts.env ? { env: opts.env } : {}) };
  const { repo, findings } = await loadRepo(ctx.root, loadOptions);
  // Errors in observed files only do not stop the run: observe rewrites those files (forObserve), and the load after
  // observe validates everything again.
  if (findings.some((f) => f.severity === 'error' && !f.file.startsWith('observed/'))) throw new ValidationFailed(findings);
  const warnings = findings.filter((f) => f.severity !== 'error');
  for (const w of findings) ctx.stderr(formatFinding(w));
  const invalid = new Set(findings.filter((f) => f.severity === 'error').map((f) => f.file)).size;
  ctx.stdout(
    `validate: ${repo.environments.size} environment(s), ${warnings.length} warning(s)` +
      `${invalid > 0 ? `, ${invalid} invalid observed file(s) that observe rewrites` : ''}\n`,
  );

  // Every environment is observed before any file is written: one that fails leaves every observed/ file as it was.
  // (Observe reads policies/ and the environment's own observed/ files only, which no other observe rewrites.)
  const observed: ObservedEnvironment[] = [];
  for (const env of promotionOrder(repo)) {
    observed.push(await observeEnvironment({ root: ctx.root, env, today: ctx.today, progress: ctx.progress, ...(opts.to ? { to: opts.to } : {}), loaded: { repo, findings } }));
  }
  const writes = await writeFilesAtomic(observed.flatMap((o) => o.files), { journal: journalPath(ctx.root) });
  let gaps = 0;
  for (const o of observed) {
    const r = withWrites(ctx.root, o, writes);
    if (r.fallback) ctx.stderr(fallbackWarning(r.fallback));
    const found = coverageFindings(r, `policies/${r.environment}/environment.yaml`);
    for (const f of found) ctx.stderr(formatFinding(f));
    gaps += found.length;
    if (r.unknownFields) ctx.stderr(unknownFieldsWarning(r.unknownFields));
    ctx.stdout(formatObserveSummary(r));
  }
  const loaded = await loadRepoOrThrow(ctx.root, loadOptions);
  const order = promotionOrder(loaded.repo);
  // Every environment of `loaded`, resolved once, here; synth and report take these.
  const resolutions = new Map<string, ResolveResult>();
  for (const env of order) {
    const resolution = resolveFromRepo(loaded.repo, env, ctx.today);
    resolutions.set(env, resolution);
    // The summary line needs no comparison with the committed baseline (git archive and a resolve per environment).
    const { plan } = await runPlan({ root: ctx.root, env, today: ctx.today, baseline: false, loaded, resolution });
    ctx.stdout(`plan ${env}: ${plan.summary.rules} rules (${plan.summary.intent} intent, ${plan.summary.observed} observed); ${breakLine(plan)}\n`);
  }
  const synth = await runSynth(
    { root: ctx.root, today: ctx.today, ...(opts.env ? { env: opts.env } : {}), loaded },
    ({ env }) => resolutions.get(env.name)!,
  );
  ctx.stdout(formatSynthSummary(synth));
  for (const env of order) {
    const { report, fallback } = await runReport({ root: ctx.root, env, today: ctx.today, progress: ctx.progress, ...(opts.to ? { to: opts.to } : {}), loaded, resolution: resolutions.get(env)! });
    if (fallback) ctx.stderr(fallbackWarning(fallback));
    ctx.stdout(reportSummaryLine(report));
  }
  ctx.stdout(`done in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  // Workloads whose logs stopped kept their earlier evidence; the pipeline went on, and the run says so by its exit.
  return gaps > 0 ? EXIT_FINDINGS : EXIT_OK;
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
  return names.map((n) => ({ n, d: depth(n) })).sort((a, b) => a.d - b.d || (a.n < b.n ? -1 : 1)).map((x) => x.n);
}
