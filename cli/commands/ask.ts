/** `leastpath sql check` and `leastpath ask`: load what the policy needs, print the outcomes, map them to exit codes. */
import { UsageError } from '../../core/errors.js';
import { readAskConfig } from '../../model/read-repo.js';
import type { AskConfig, EnvironmentPolicies } from '../../model/types.js';
import { askFlags, bindQuery, proposeQuery, runQuery, sqlPolicy, type AskFlags } from '../../ask/ask-command.js';
import { checkSql } from '../../ask/sql-guard.js';
import type { Context } from '../context.js';
import { EXIT_FINDINGS, EXIT_OK } from '../exit-codes.js';
import { environmentIn, loadValidRepository } from '../load.js';

/** With `--env`, the environment and ask.yaml of a validated load; without, policies/ask.yaml alone (no other file is read). */
async function loadForAsk(
  ctx: Context,
  environmentName: string | undefined,
): Promise<{ ask?: AskConfig; environment?: EnvironmentPolicies }> {
  if (environmentName === undefined) {
    const ask = await readAskConfig(ctx.root);
    return ask ? { ask } : {};
  }
  const loaded = await loadValidRepository(ctx.root, { today: ctx.today, env: environmentName });
  const environment = environmentIn(loaded, environmentName);
  return { environment, ...(loaded.repo.ask ? { ask: loaded.repo.ask } : {}) };
}

/** Prints the accepted SQL (exit 0) or `refused: why` on stderr (exit 1). */
export async function sqlCheckCommand(
  ctx: Context,
  sql: string,
  opts: { env?: string; maxLimit?: string; logs?: string },
): Promise<number> {
  if (sql.trim() === '') throw new UsageError('sql check needs the query as one argument: leastpath sql check "SELECT ..."');
  const flags: AskFlags = askFlags(opts.maxLimit, opts.logs);
  const result = checkSql(sql, sqlPolicy(flags, { ...(await loadForAsk(ctx, opts.env)), today: ctx.today }));
  if (!result.ok) {
    ctx.stderr(`refused: ${result.reason}`);
    return EXIT_FINDINGS;
  }
  ctx.stdout(`${result.sql}\n`);
  return EXIT_OK;
}

interface AskOptions {
  env: string;
  run?: boolean;
  format: 'text' | 'json';
  maxLimit?: string;
  /** flow (default) or dns: the Route 53 Resolver query-log table. */
  logs?: string;
}

/**
 * Asks the configured model for one query, prints it when the validator accepts it, and with --run prints its
 * result too. A refusal prints `refused: why` and the model's SQL, runs nothing, and exits 1.
 */
export async function askCommand(ctx: Context, question: string, opts: AskOptions): Promise<number> {
  if (question.trim() === '') throw new UsageError('ask needs the question as one argument: leastpath ask "..." --env E');
  const flags = askFlags(opts.maxLimit, opts.logs);
  const { ask, environment } = await loadForAsk(ctx, opts.env);
  if (!environment) throw new UsageError('--env E is required');
  const policy = sqlPolicy(flags, { ...(ask ? { ask } : {}), environment, today: ctx.today });
  const json = opts.format === 'json';
  const refuse = (sql: string, reason: string): number => {
    ctx.stderr(`refused: ${reason}`);
    ctx.stderr(`the model's SQL (not run):\n${sql}`);
    if (json) ctx.stdout(`${JSON.stringify({ question, sql, refused: reason }, null, 2)}\n`);
    return EXIT_FINDINGS;
  };

  const decision = await proposeQuery({
    question,
    policy,
    ...(ask ? { ask } : {}),
    environment,
    today: ctx.today,
    processEnv: ctx.processEnv,
  });
  if (decision.refused !== undefined) return refuse(decision.sql, decision.refused);
  const { sql } = decision;
  if (!opts.run) {
    ctx.stdout(json ? `${JSON.stringify({ question, sql }, null, 2)}\n` : `${sql}\n`);
    return EXIT_OK;
  }

  const binding = await bindQuery(sql);
  if (binding.refused !== undefined) return refuse(sql, binding.refused);
  // The SQL is on screen while the query runs.
  if (!json) ctx.stdout(`${sql}\n\n`);
  const result = await runQuery({ root: ctx.root, environment, ...(ask ? { ask } : {}), policy, bound: binding.bound });
  if (json) {
    ctx.stdout(`${JSON.stringify({ question, sql, columns: result.columns, rows: result.rows }, null, 2)}\n`);
  } else {
    const { renderTable } = await import('../../ask/render.js');
    ctx.stdout(renderTable(result));
  }
  return EXIT_OK;
}
