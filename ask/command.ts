/**
 * `leastpath sql check "SQL" [--env E]`: the validator alone, and `leastpath ask "question" --env E [--run]`:
 * a model writes the query, the validator decides, and with --run the accepted query runs read-only with its
 * values as parameters (ask/params.ts, ask/run.ts).
 */
import { dirname, join } from 'node:path';
import { addDays } from '../core/dates.js';
import { UsageError } from '../core/errors.js';
import { ASK_FILE, readAskConfig } from '../model/read-repo.js';
import { loadEnvironmentOrThrow } from '../validate/load-repo.js';
import type { AskConfig, EnvironmentPolicies } from '../model/types.js';
import { EXIT_FINDINGS, EXIT_OK } from '../cli/exit-codes.js';
import type { Context } from '../cli/context.js';
import { flowLogsFor } from '../observe/sources.js';
import { DEFAULT_MAX_LIMIT, DEFAULT_TABLE, DNS_LOG_COLUMNS, DNS_TABLE, FLOW_LOG_COLUMNS, PARTITION_COLUMN } from './schema.js';
import { checkSql, type SqlPolicy } from './sql-guard.js';

interface AskSetup {
  policy: SqlPolicy;
  /** policies/ask.yaml, when there is one. */
  ask?: AskConfig;
  /** The environment of --env. */
  environment?: EnvironmentPolicies;
}

/**
 * The policy of a query: the environment's Athena table name when set (flowLogs.athena.table), else the default;
 * the row limit of policies/ask.yaml (maxLimit, default 1000), lowered by --max-limit (never raised).
 */
async function loadAskSetup(ctx: Pick<Context, 'root' | 'today'>, env?: string, maxLimitOption?: string, logs: string = 'flow'): Promise<AskSetup> {
  if (logs !== 'flow' && logs !== 'dns') throw new UsageError(`--logs must be flow or dns, got ${JSON.stringify(logs)}`);
  const limitOption = maxLimitOption === undefined ? undefined : parseMaxLimit(maxLimitOption);
  let table = DEFAULT_TABLE;
  let ask: AskConfig | undefined;
  let environment: EnvironmentPolicies | undefined;
  let earliestDay: string | undefined;
  if (env !== undefined) {
    const loaded = await loadEnvironmentOrThrow(ctx.root, env, ctx.today);
    environment = loaded.environment;
    table = environment.environment.value.flowLogs.athena?.table ?? DEFAULT_TABLE;
    ask = loaded.repo.ask;
    // A query may reach back as far as the environment retains evidence: today less window.retainDays.
    earliestDay = addDays(ctx.today, -environment.environment.value.window.retainDays).replace(/-/g, '/');
  } else {
    ask = await readAskConfig(ctx.root);
  }
  const configured = ask?.maxLimit ?? DEFAULT_MAX_LIMIT;
  const maxLimit = Math.min(configured, limitOption ?? configured);
  const policy: SqlPolicy =
    logs === 'dns'
      ? { table: DNS_TABLE, columns: DNS_LOG_COLUMNS.map((c) => c.name), partitionColumn: PARTITION_COLUMN, maxLimit, earliestDay, logs: 'dns' }
      : { table, columns: FLOW_LOG_COLUMNS.map((c) => c.name), partitionColumn: PARTITION_COLUMN, maxLimit, earliestDay };
  return { policy, ...(ask ? { ask } : {}), ...(environment ? { environment } : {}) };
}

function parseMaxLimit(value: string): number {
  const n = /^\d+$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n) || n < 1) throw new UsageError(`--max-limit must be a whole number, 1 or more, got ${JSON.stringify(value)}`);
  return n;
}

/** Prints the accepted SQL (exit 0) or `refused: why` on stderr (exit 1). */
export async function sqlCheckCommand(ctx: Context, sql: string, opts: { env?: string; maxLimit?: string; logs?: string }): Promise<number> {
  if (sql.trim() === '') throw new UsageError('sql check needs the query as one argument: leastpath sql check "SELECT ..."');
  const { policy } = await loadAskSetup(ctx, opts.env, opts.maxLimit, opts.logs);
  const result = checkSql(sql, policy);
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
  const { policy, ask, environment } = await loadAskSetup(ctx, opts.env, opts.maxLimit, opts.logs);
  if (!environment) throw new UsageError('--env E is required');
  const config = environment.environment.value;
  const { createProvider } = await import('./provider.js');
  const { buildPrompt, stripFence } = await import('./prompt.js');
  const provider = await createProvider(ask, { env: ctx.env, defaultRegion: config.region });
  const proposed = stripFence(await provider.complete(buildPrompt(question, policy, ctx.today)));
  const json = opts.format === 'json';
  const refuse = (sql: string, reason: string): number => {
    ctx.stderr(`refused: ${reason}`);
    ctx.stderr(`the model's SQL (not run):\n${sql}`);
    if (json) ctx.stdout(`${JSON.stringify({ question, sql, refused: reason }, null, 2)}\n`);
    return EXIT_FINDINGS;
  };

  const checked = checkSql(proposed, policy);
  if (!checked.ok) return refuse(proposed, checked.reason);
  const { sql } = checked;
  if (!opts.run) {
    ctx.stdout(json ? `${JSON.stringify({ question, sql }, null, 2)}\n` : `${sql}\n`);
    return EXIT_OK;
  }

  const { parameterize } = await import('./params.js');
  const bound = parameterize(sql);
  if (!bound.ok) return refuse(sql, bound.reason);
  if (!json) ctx.stdout(`${sql}\n\n`);
  const { DEFAULT_ASK_MAX_SECONDS, runOnAthena, runOnDuckDb } = await import('./run.js');
  const flowLogs = flowLogsFor(environment);
  const file = environment.environment.source.file;
  const timeBound = { seconds: ask?.maxSeconds ?? DEFAULT_ASK_MAX_SECONDS, setting: `maxSeconds in ${ASK_FILE}` };
  let result;
  if (policy.logs === 'dns') {
    const dns = config.dnsLogs;
    if (!dns) throw new UsageError(`--logs dns: environment ${config.environment} has no dnsLogs in ${file}`);
    result = await runOnDuckDb(
      { patterns: dns.files, baseDir: dirname(join(ctx.root, file)), root: ctx.root, memoryLimit: config.flowLogs.memoryLimit, environment: environment.environment.source, logs: 'dns', bound: timeBound },
      policy.table,
      bound.numbered.sql,
      bound.numbered.params,
      bound.numbered.types,
    );
  } else if (flowLogs.engine === 'athena') {
    result = await runOnAthena({ athena: flowLogs.athena, region: config.region, configFile: file, bound: timeBound }, bound.sql, bound.params, bound.literals);
  } else {
    result = await runOnDuckDb(
      {
        patterns: flowLogs.files,
        baseDir: dirname(join(ctx.root, file)),
        root: ctx.root,
        memoryLimit: flowLogs.memoryLimit,
        environment: environment.environment.source,
        bound: timeBound,
      },
      policy.table,
      bound.numbered.sql,
      bound.numbered.params,
      bound.numbered.types,
    );
  }
  if (json) {
    ctx.stdout(`${JSON.stringify({ question, sql, columns: result.columns, rows: result.rows }, null, 2)}\n`);
  } else {
    const { renderTable } = await import('./render.js');
    ctx.stdout(renderTable(result));
  }
  return EXIT_OK;
}
