/**
 * `leastpath run`: the whole pipeline over every environment (what `npm start` runs on the example):
 * validate, observe each environment, then the later stages as they exist. Prints a short summary.
 */
import { formatFinding, hasErrors } from '../core/findings.js';
import { ValidationFailed } from '../core/errors.js';
import { loadRepo } from '../model/read-repo.js';
import { formatObserveSummary, runObserve } from '../observe/command.js';
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

  for (const env of repo.environments.keys()) {
    const r = await runObserve({ root: ctx.root, env, today: ctx.today, ...(opts.to ? { to: opts.to } : {}) });
    ctx.stdout(formatObserveSummary(r));
  }
  ctx.stdout(`done in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  return EXIT_OK;
}
