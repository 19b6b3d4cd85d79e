/**
 * Registers each command. The CLI loads (cli/commands/<command>.ts, through load.ts), the stages return outcomes,
 * and the CLI prints them and maps them to exit codes. Stages are imported when their command runs, so `--help`
 * and `validate` do not load DuckDB or the AWS SDK.
 */
import { resolve } from 'node:path';
import { Option, type Command } from 'commander';
import { UsageError } from '../core/errors.js';
import type { ValidateFormat } from '../validate/render.js';
import type { Context } from './context.js';
import { EXIT_FINDINGS, EXIT_OK } from './exit-codes.js';

/** --engine for the commands that read flow logs (observe, report). */
const engineOption = () => new Option('--engine <engine>', 'query engine (default: flowLogs.engine)').choices(['duckdb', 'athena']);

type SetExit = (code: number) => void;

/** A `--format` option restricted to the given choices. */
function formatOption(choices: string[], fallback: string): Option {
  return new Option('--format <format>', 'output format').choices(choices).default(fallback);
}

/** The environment name of `--env` (or `--to`). */
function requireEnvironmentName(value: unknown): string {
  if (typeof value !== 'string' || value === '') throw new UsageError('--env E is required');
  return value;
}

export function registerCommands(program: Command, context: () => Context, setExit: SetExit): void {
  program
    .command('validate')
    .description('schema (ajv) and semantic checks of policies/ and observed/')
    .option('--env <env>', 'only this environment')
    .addOption(formatOption(['text', 'json', 'github'], 'text'))
    .action(async (opts: { env?: string; format: ValidateFormat }) => {
      const { validateCommand } = await import('./commands/validate.js');
      setExit(await validateCommand(context(), opts));
    });

  program
    .command('observe')
    .description('flow logs -> observed/E/*.yaml for the window ending at --to')
    .requiredOption('--env <env>', 'environment')
    .option('--to <date>', 'last day of the window, YYYY-MM-DD (default: today, UTC)')
    .option('--rebuild', "rebuild the window's evidence from the flow logs alone (also a window before the committed one)")
    .addOption(engineOption())
    .addOption(formatOption(['text', 'json'], 'text'))
    .action(async (opts: { env: string; to?: string; rebuild?: boolean; engine?: 'duckdb' | 'athena'; format: 'text' | 'json' }) => {
      const ctx = context();
      const { coverageFindings, formatObserveSummary } = await import('../observe/observe-command.js');
      const { runObserve } = await import('./commands/observe.js');
      const { formatFinding } = await import('../core/findings.js');
      const { asWriter } = await import('../core/writer.js');
      const environmentName = requireEnvironmentName(opts.env);
      const r = await asWriter(ctx.root, `observe --env ${opts.env}`, { stderr: ctx.stderr }, () =>
        runObserve({
          root: ctx.root,
          env: environmentName,
          today: ctx.today,
          progress: ctx.progress,
          ...(opts.to ? { to: opts.to } : {}),
          ...(opts.engine ? { engine: opts.engine } : {}),
          ...(opts.rebuild ? { rebuild: true } : {}),
        }),
      );
      for (const m of r.malformed) ctx.stderr(`${m.file}:${m.line}:1: <record>: warning: malformed flow-log record skipped: ${m.message}`);
      if (r.fallback) ctx.stderr((await import('../observe/duckdb-checks.js')).fallbackWarning(r.fallback));
      const gaps = coverageFindings(r, `policies/${environmentName}/environment.yaml`);
      for (const f of gaps) ctx.stderr(formatFinding(f));
      if (r.unknownFields) ctx.stderr((await import('../observe/duckdb-checks.js')).unknownFieldsWarning(r.unknownFields));
      ctx.stdout(opts.format === 'json' ? `${JSON.stringify(r, null, 2)}\n` : formatObserveSummary(r));
      // A workload whose logs stopped is a finding: its evidence was kept, and a person must see why.
      setExit(gaps.length > 0 ? EXIT_FINDINGS : EXIT_OK);
    });

  program
    .command('run')
    .description('the whole pipeline over every environment: validate, observe, and the later stages')
    .option('--env <env>', 'only this environment')
    .option('--to <date>', 'last day of the observation window, YYYY-MM-DD (default: today, UTC)')
    .action(async (opts: { env?: string; to?: string }) => {
      const ctx = context();
      const { runPipeline } = await import('./run.js');
      const { asWriter } = await import('../core/writer.js');
      const out = resolve(ctx.root, 'cdktf.out');
      setExit(await asWriter(ctx.root, 'run', { stderr: ctx.stderr, outputs: [out] }, () => runPipeline(ctx, opts)));
    });

  program
    .command('plan')
    .description('resolved rules, exceptions, quota use, changes against what is committed, and the what-if replay')
    .requiredOption('--env <env>', 'environment')
    .addOption(formatOption(['text', 'md', 'json', 'html'], 'text'))
    .option(
      '--detailed-exitcode',
      'exit 1 when, in an enforce environment, the plan would break observed flows or removes rules that carried observed flows',
    )
    .action(async (opts: { env: string; format: 'text' | 'md' | 'json' | 'html'; detailedExitcode?: boolean }) => {
      const ctx = context();
      const { planStops } = await import('../generators/plan-command.js');
      const { runPlan } = await import('./commands/plan.js');
      const { renderPlan } = await import('../generators/render-plan.js');
      const { formatFinding } = await import('../core/findings.js');
      const { plan, findings, modeAt, sourceLines } = await runPlan({
        root: ctx.root,
        env: requireEnvironmentName(opts.env),
        today: ctx.today,
      });
      for (const f of findings) ctx.stderr(formatFinding(f));
      if (opts.format === 'html') {
        const { renderPlanHtml } = await import('../generators/render-plan-html.js');
        ctx.stdout(renderPlanHtml(plan, (source) => sourceLines.get(source)));
      } else {
        ctx.stdout(renderPlan(plan, opts.format));
      }
      const stops = opts.detailedExitcode ? planStops(plan) : [];
      for (const why of stops) ctx.stderr(`${modeAt}: mode: plan stops CI (--detailed-exitcode, mode enforce): ${why}`);
      setExit(stops.length > 0 ? EXIT_FINDINGS : EXIT_OK);
    });

  program
    .command('synth')
    .description('CDK for Terraform synth: one stack per environment in DIR/stacks/E/cdk.tf.json')
    .option('--env <env>', 'only this environment')
    .option('--out <dir>', 'output directory', 'cdktf.out')
    .action(async (opts: { env?: string; out: string }) => {
      const ctx = context();
      const { formatSynthSummary } = await import('../stacks/synth-command.js');
      const { runSynth } = await import('./commands/synth.js');
      const { formatFinding } = await import('../core/findings.js');
      const { asWriter } = await import('../core/writer.js');
      const r = await asWriter(ctx.root, 'synth', { stderr: ctx.stderr, outputs: [resolve(ctx.root, opts.out)] }, () =>
        runSynth({ root: ctx.root, today: ctx.today, out: opts.out, ...(opts.env ? { env: opts.env } : {}) }),
      );
      for (const f of r.warnings) ctx.stderr(formatFinding(f));
      ctx.stdout(formatSynthSummary(r));
      setExit(EXIT_OK);
    });

  program
    .command('report')
    .description('rule hits, unused rules, rejects and anomalies over the flow logs of the window')
    .requiredOption('--env <env>', 'environment')
    .addOption(formatOption(['md', 'html', 'json'], 'md'))
    .option('--current <file>', 'count the rules AWS has today: the JSON answer of EC2 DescribeSecurityGroupRules')
    .option('--to <date>', 'last day of the window, YYYY-MM-DD (default: today, UTC)')
    .addOption(engineOption())
    .action(async (opts: { env: string; format: 'md' | 'html' | 'json'; current?: string; to?: string; engine?: 'duckdb' | 'athena' }) => {
      const ctx = context();
      const { runReport } = await import('./commands/report.js');
      const { renderReport } = await import('../verify/render-report.js');
      const { formatFinding } = await import('../core/findings.js');
      const { report, findings, fallback, needsAttention } = await runReport({
        root: ctx.root,
        env: requireEnvironmentName(opts.env),
        today: ctx.today,
        progress: ctx.progress,
        ...(opts.to ? { to: opts.to } : {}),
        ...(opts.current ? { current: opts.current } : {}),
        ...(opts.engine ? { engine: opts.engine } : {}),
      });
      for (const f of findings) ctx.stderr(formatFinding(f));
      if (fallback) ctx.stderr((await import('../observe/duckdb-checks.js')).fallbackWarning(fallback));
      ctx.stdout(renderReport(report, opts.format));
      // Anomalies, and rules outside leastpath on an enforced group, are findings a person must look at; unused rules
      // and rejections are information.
      setExit(needsAttention ? EXIT_FINDINGS : EXIT_OK);
    });

  program
    .command('propose')
    .description("opens or updates the environment's pull request (branch leastpath/E) through the GitHub API")
    .requiredOption('--env <env>', 'environment')
    .option('--dry-run', 'print what would be done; write nothing')
    .option('--report <file>', 'the JSON report of the environment (leastpath report --format json), for the anomalies section')
    .action(async (opts: { env: string; dryRun?: boolean; report?: string }) => {
      const ctx = context();
      const { proposeCommand } = await import('./commands/propose.js');
      const r = await proposeCommand(ctx, {
        environmentName: requireEnvironmentName(opts.env),
        dryRun: opts.dryRun === true,
        ...(opts.report ? { report: opts.report } : {}),
      });
      ctx.stdout(`${r.lines.join('\n')}\n`);
      if (opts.dryRun) ctx.stdout(`\n${r.body}`);
      setExit(EXIT_OK);
    });

  program
    .command('sql')
    .description('SQL over the flow-log table')
    .command('check')
    .description('the validator alone: prints the accepted (LIMIT-added) SQL, or why it is refused')
    .argument('<sql>', 'one SELECT, quoted as one argument')
    .option('--env <env>', "check against this environment's table (flowLogs.athena.table)")
    .option('--max-limit <n>', 'lower the row limit below policies/ask.yaml maxLimit (default 1000)')
    .option(
      '--logs <logs>',
      'flow (the flow-log table, default) or dns (the Route 53 Resolver query-log table resolver_query_logs)',
      'flow',
    )
    .action(async (sql: string, opts: { env?: string; maxLimit?: string; logs?: string }) => {
      const { sqlCheckCommand } = await import('./commands/ask.js');
      setExit(await sqlCheckCommand(context(), sql, opts));
    });

  program
    .command('ask')
    .description('plain language -> one validated SQL query over the flow-log table (and its result with --run)')
    .argument('<question>', 'the question, quoted as one argument')
    .requiredOption('--env <env>', 'environment')
    .option('--run', "run the accepted query, read-only, on the environment's engine")
    .option('--max-limit <n>', 'lower the row limit below policies/ask.yaml maxLimit (default 1000)')
    .option(
      '--logs <logs>',
      'flow (the flow-log table, default) or dns (the Route 53 Resolver query-log table resolver_query_logs)',
      'flow',
    )
    .addOption(formatOption(['text', 'json'], 'text'))
    .action(async (question: string, opts: { env: string; run?: boolean; maxLimit?: string; logs?: string; format: 'text' | 'json' }) => {
      const { askCommand } = await import('./commands/ask.js');
      setExit(await askCommand(context(), question, { ...opts, env: requireEnvironmentName(opts.env) }));
    });

  program
    .command('promote')
    .description("opens or updates the promotion pull request from E's promoteFrom (branch leastpath/promote-E)")
    .requiredOption('--to <env>', 'environment to promote into')
    .option('--dry-run', 'print what would be done; write nothing')
    .action(async (opts: { to: string; dryRun?: boolean }) => {
      const ctx = context();
      const { promoteCommand } = await import('./commands/propose.js');
      const r = await promoteCommand(ctx, { dryRun: opts.dryRun === true, to: requireEnvironmentName(opts.to) });
      if (r.refused) {
        ctx.stderr(`leastpath: promotion refused: ${r.reason}`);
        setExit(EXIT_FINDINGS);
        return;
      }
      ctx.stdout(`${r.lines.join('\n')}\n`);
      if (opts.dryRun) ctx.stdout(`\n${r.body}`);
      setExit(EXIT_OK);
    });
}
