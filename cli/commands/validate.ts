/** `leastpath validate`: loads (which validates), prints the findings, and exits 1 on an error. */
import type { ValidateFormat } from '../../validate/render.js';
import { validateOutcome } from '../../validate/validate-command.js';
import type { Context } from '../context.js';
import { EXIT_FINDINGS, EXIT_OK } from '../exit-codes.js';
import { loadRepository } from '../load.js';

export async function validateCommand(ctx: Context, opts: { env?: string; format: ValidateFormat }): Promise<number> {
  const loaded = await loadRepository(ctx.root, { today: ctx.today, ...(opts.env !== undefined ? { env: opts.env } : {}) });
  const outcome = validateOutcome(loaded, { format: opts.format, ...(opts.env !== undefined ? { environmentName: opts.env } : {}) });
  if (outcome.stdout !== '') ctx.stdout(outcome.stdout);
  for (const line of outcome.stderr) ctx.stderr(line);
  return outcome.failed ? EXIT_FINDINGS : EXIT_OK;
}
