/**
 * `leastpath sql check "SQL" [--env E]`: the validator alone, and `leastpath ask "question" --env E [--run]`:
 * a model writes the query, the validator decides, and with --run the accepted query runs read-only with its
 * values as parameters (ask/params.ts, ask/run.ts). The CLI loads the environment and prints the outcomes.
 */
import { dirname, join } from 'node:path';
import { addDays } from '../core/dates.js';
import { UsageError } from '../core/errors.js';
import { ASK_FILE } from '../model/read-repo.js';
import type { AskConfig, EnvironmentPolicies } from '../model/types.js';
import { flowLogsFor } from '../observe/sources.js';
import type { ParameterizedQuery } from './params.js';
import type { QueryResult } from './run.js';
import { DEFAULT_MAX_LIMIT, DEFAULT_TABLE, DNS_LOG_COLUMNS, DNS_TABLE, FLOW_LOG_COLUMNS, PARTITION_COLUMN } from './schema.js';
import { checkSql, type SqlPolicy } from './sql-guard.js';

/** The flags that shape a query's policy, checked before anything is read. */
export interface AskFlags {
  logs: 'flow' | 'dns';
  /** --max-limit: lowers policies/ask.yaml's maxLimit, never raises it. */
  maxLimit?: number;
}

/** `--max-limit` and `--logs` checked (UsageError): the CLI does this before it loads anything. */
export function askFlags(maxLimitOption: string | undefined, logs: string = 'flow'): AskFlags {
  if (logs !== 'flow' && logs !== 'dns') throw new UsageError(`--logs must be flow or dns, got ${JSON.stringify(logs)}`);
  return { logs, ...(maxLimitOption === undefined ? {} : { maxLimit: parseMaxLimit(maxLimitOption) }) };
}

/**
 * The policy of a query: the environment's Athena table name when set (flowLogs.athena.table), else the default;
 * the row limit of policies/ask.yaml (maxLimit, default 1000), lowered by --max-limit (never raised); with an
 * environment, a query may reach back as far as it retains evidence.
 */
export function sqlPolicy(flags: AskFlags, setup: { ask?: AskConfig; environment?: EnvironmentPolicies; today: string }): SqlPolicy {
  const config = setup.environment?.environment.value;
  const table = config?.flowLogs.athena?.table ?? DEFAULT_TABLE;
  // today less window.retainDays, as the partition path writes days
  const earliestDay = config ? addDays(setup.today, -config.window.retainDays).replace(/-/g, '/') : undefined;
  const configured = setup.ask?.maxLimit ?? DEFAULT_MAX_LIMIT;
  const maxLimit = Math.min(configured, flags.maxLimit ?? configured);
  return flags.logs === 'dns'
    ? {
        table: DNS_TABLE,
        columns: DNS_LOG_COLUMNS.map((c) => c.name),
        partitionColumn: PARTITION_COLUMN,
        maxLimit,
        earliestDay,
        logs: 'dns',
      }
    : { table, columns: FLOW_LOG_COLUMNS.map((c) => c.name), partitionColumn: PARTITION_COLUMN, maxLimit, earliestDay };
}

function parseMaxLimit(value: string): number {
  const n = /^\d+$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n) || n < 1)
    throw new UsageError(`--max-limit must be a whole number, 1 or more, got ${JSON.stringify(value)}`);
  return n;
}

/** What ask decided: the SQL to print, or why it is refused (the SQL is printed, not run). */
export type AskDecision = { sql: string; refused?: undefined } | { sql: string; refused: string };

export interface AskInput {
  question: string;
  policy: SqlPolicy;
  /** policies/ask.yaml, when there is one: the model. */
  ask?: AskConfig;
  environment: EnvironmentPolicies;
  today: string;
  /** The process environment: credentials and the key variable that ask.yaml names. */
  processEnv: NodeJS.ProcessEnv;
}

/** Asks the configured model for one query and checks it with the validator. */
export async function proposeQuery(input: AskInput): Promise<AskDecision> {
  const { createProvider } = await import('./provider.js');
  const { buildPrompt, stripFence } = await import('./prompt.js');
  const provider = await createProvider(input.ask, { env: input.processEnv, defaultRegion: input.environment.environment.value.region });
  const proposed = stripFence(await provider.complete(buildPrompt(input.question, input.policy, input.today)));
  const checked = checkSql(proposed, input.policy);
  return checked.ok ? { sql: checked.sql } : { sql: proposed, refused: checked.reason };
}

/** An accepted query with its literals as parameters, or why they cannot be (then it is refused, not run). */
export async function bindQuery(sql: string): Promise<{ bound: ParameterizedQuery; refused?: undefined } | { refused: string }> {
  const { parameterize } = await import('./params.js');
  const bound = parameterize(sql);
  return bound.ok ? { bound } : { refused: bound.reason };
}

/** Runs a bound query, read-only, on the environment's engine (DuckDB for the query logs). */
export async function runQuery(input: {
  root: string;
  environment: EnvironmentPolicies;
  ask?: AskConfig;
  policy: SqlPolicy;
  bound: ParameterizedQuery;
}): Promise<QueryResult> {
  const { root, environment, ask, policy, bound } = input;
  const config = environment.environment.value;
  const { DEFAULT_ASK_MAX_SECONDS, runOnAthena, runOnDuckDb } = await import('./run.js');
  const flowLogs = flowLogsFor(environment);
  const file = environment.environment.source.file;
  const timeBound = { seconds: ask?.maxSeconds ?? DEFAULT_ASK_MAX_SECONDS, setting: `maxSeconds in ${ASK_FILE}` };
  if (policy.logs === 'dns') {
    const dns = config.dnsLogs;
    if (!dns) throw new UsageError(`--logs dns: environment ${config.environment} has no dnsLogs in ${file}`);
    return runOnDuckDb(
      {
        patterns: dns.files,
        baseDir: dirname(join(root, file)),
        root,
        memoryLimit: config.flowLogs.memoryLimit,
        environment: environment.environment.source,
        logs: 'dns',
        bound: timeBound,
      },
      policy.table,
      bound.numbered.sql,
      bound.numbered.params,
      bound.numbered.types,
    );
  }
  if (flowLogs.engine === 'athena') {
    return runOnAthena(
      { athena: flowLogs.athena, region: config.region, configFile: file, bound: timeBound },
      bound.sql,
      bound.params,
      bound.literals,
    );
  }
  return runOnDuckDb(
    {
      patterns: flowLogs.files,
      baseDir: dirname(join(root, file)),
      root,
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
