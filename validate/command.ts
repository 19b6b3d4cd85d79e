/** `leastpath validate [--env E] [--format text|json|github]`: schema and semantic checks of policies/ and observed/. */
import { EXIT_FINDINGS, EXIT_OK } from '../cli/exit-codes.js';
import type { Context } from '../cli/context.js';
import { hasErrors } from '../core/findings.js';
import { loadRepo } from './load-repo.js';
import { renderFindings, type ValidateFormat } from './render.js';

interface ValidateOptions {
  env?: string;
  format: ValidateFormat;
}

/** Runs validate and returns the exit code: 0 without errors (warnings allowed), 1 with errors. */
export async function validateCommand(ctx: Context, opts: ValidateOptions): Promise<number> {
  const { repo, findings } = await loadRepo(ctx.root, { today: ctx.today, ...(opts.env !== undefined ? { env: opts.env } : {}) });
  const envs = [...repo.environments.keys()];
  const scope = opts.env !== undefined ? `environment ${opts.env}` : `${envs.length} environment${envs.length === 1 ? '' : 's'}`;
  const out = renderFindings(findings, opts.format, scope);
  if (out.stdout !== '') ctx.stdout(out.stdout);
  for (const line of out.stderr) ctx.stderr(line);
  return hasErrors(findings) ? EXIT_FINDINGS : EXIT_OK;
}
