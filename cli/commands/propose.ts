/** `leastpath propose` and `leastpath promote`: the CLI loads and plans; the bots talk to GitHub. */
import type { BotResult } from '../../propose/bot.js';
import { runPromote } from '../../propose/promote-command.js';
import { runPropose } from '../../propose/propose-command.js';
import type { Context } from '../context.js';
import { loadValidRepository } from '../load.js';
import { runPlan } from './plan.js';

export async function proposeCommand(
  ctx: Context,
  opts: { environmentName: string; dryRun: boolean; report?: string },
): Promise<BotResult> {
  const { plan } = await runPlan({ root: ctx.root, env: opts.environmentName, today: ctx.today });
  return runPropose({ root: ctx.root, today: ctx.today, processEnv: ctx.processEnv, warn: ctx.stderr, ...opts, plan });
}

export async function promoteCommand(ctx: Context, opts: { to: string; dryRun: boolean }) {
  const { repo } = await loadValidRepository(ctx.root, { today: ctx.today });
  return runPromote({
    root: ctx.root,
    today: ctx.today,
    processEnv: ctx.processEnv,
    dryRun: opts.dryRun,
    warn: ctx.stderr,
    to: opts.to,
    repo,
    planTree: async (root, environmentName, baselineRoot) =>
      (await runPlan({ root, env: environmentName, today: ctx.today, baselineRoot })).plan,
  });
}
