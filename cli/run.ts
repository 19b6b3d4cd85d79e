/**
 * `leastpath run`: the whole pipeline over every environment (what `npm start` runs on the example):
 * validate, observe each environment, then the later stages as they exist. Prints a short summary.
 */
import { formatFinding, hasErrors } from '../core/findings.js';
import { ValidationFailed } from '../core/errors.js';
import { loadRepo } from '../model/read-repo.js';
import { formatObserveSummary, runObserve } from '../observe/command.js';
import type { Repo } from '../model/types.js';
import type { Context } from './context.js';
import { EXIT_OK } from './exit-codes.js';

export interface RunOptions {
  to?: string;
  env?: string;
}

export async function runPipeline(ctx: Context, opts: RunOptions): Promise<number> {
  const started = Date.now();
  const { repo, findings } = await loadRepo(ctx.root, { today: ctx.today, ...(opts.env ? { env: opts.env } : {}) });
  if (hasErrors(findings)) throw new ValidationFailed(findings);
  const warnings = findings.filter((f) => f.severity !== 'error');
  for (const w of warnings) ctx.stderr(formatFinding(w));
  ctx.stdout(`validate: ${repo.environments.size} environment(s), ${warnings.length} warning(s)\n`);

  for (const env of promotionOrder(repo)) {
    const r = await runObserve({ root: ctx.root, env, today: ctx.today, ...(opts.to ? { to: opts.to } : {}) });
    ctx.stdout(formatObserveSummary(r));
  }
  ctx.stdout(`done in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  return EXIT_OK;
}

/** Environments upstream first (dev before stg before prod), by `promoteFrom`; ties by name. */
export function promotionOrder(repo: Repo): string[] {
  const names = [...repo.environments.keys()].sort();
  const depth = (name: string, seen: Set<string> = new Set()): number => {
    const from = repo.environments.get(name)?.environment.value.promoteFrom;
    if (!from || seen.has(name) || !repo.environments.has(from)) return 0;
    seen.add(name);
    return 1 + depth(from, seen);
  };
  return names.map((n) => ({ n, d: depth(n) })).sort((a, b) => a.d - b.d || (a.n < b.n ? -1 : 1)).map((x) => x.n);
}
