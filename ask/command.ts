/** `leastpath sql check "SQL" [--env E]`: the validator alone. */
import { UsageError } from '../core/errors.js';
import { loadRepoOrThrow } from '../model/read-repo.js';
import { EXIT_FINDINGS, EXIT_OK } from '../cli/exit-codes.js';
import type { Context } from '../cli/context.js';
import { DEFAULT_MAX_LIMIT, DEFAULT_TABLE, FLOW_LOG_COLUMNS, PARTITION_COLUMN } from './schema.js';
import { checkSql, type SqlPolicy } from './validate.js';

/** The policy of an environment: its Athena table name when set (flowLogs.athena.table), else the default. */
export async function sqlPolicy(ctx: Pick<Context, 'root' | 'today'>, env?: string): Promise<SqlPolicy> {
  let table = DEFAULT_TABLE;
  if (env !== undefined) {
    const { repo } = await loadRepoOrThrow(ctx.root, { today: ctx.today, env });
    const loaded = repo.environments.get(env);
    if (!loaded) throw new UsageError(`environment ${JSON.stringify(env)} could not be loaded`);
    table = loaded.environment.value.flowLogs.athena?.table ?? DEFAULT_TABLE;
  }
  return { table, columns: FLOW_LOG_COLUMNS.map((c) => c.name), partitionColumn: PARTITION_COLUMN, maxLimit: DEFAULT_MAX_LIMIT };
}

/** Prints the accepted SQL (exit 0) or `refused: why` on stderr (exit 1). */
export async function sqlCheckCommand(ctx: Context, sql: string, opts: { env?: string }): Promise<number> {
  if (sql.trim() === '') throw new UsageError('sql check needs the query as one argument: leastpath sql check "SELECT ..."');
  const result = checkSql(sql, await sqlPolicy(ctx, opts.env));
  if (!result.ok) {
    ctx.stderr(`refused: ${result.reason}`);
    return EXIT_FINDINGS;
  }
  ctx.stdout(`${result.sql}\n`);
  return EXIT_OK;
}
