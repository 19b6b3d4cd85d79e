/**
 * `npm run bench:exactness`: the fold-first observe SQL (observe/sql.ts) against the baseline, a frozen copy of the
 * renderer it replaced (baseline-sql.ts), over the same files in one DuckDB session: the bench data set (generated
 * once, bench/observe/generate.ts) and every environment of the example organisation. It compares every query row
 * (egress, rejected, addresses, open connections, coverage, stats: flows, bytes, first and last seen, the deciding
 * rule, the service) and the observed files both make, byte for byte, and prints "identical" or the differences
 * (exit 1).
 *
 * Flags: --records 1000000 --files 16 --seed bench (the bench data set)  --no-example  --no-bench
 */
import { join } from 'node:path';
import { EXAMPLE_ENVS } from '../../examples/scenario.js';
import type { EnvironmentConfig } from '../../model/types.js';
import { readRepo } from '../../model/read-repo.js';
import { assembleObserved, type ObserveRow, type ObserveWindow } from '../../observe/assemble.js';
import { awsServiceLookup } from '../../observe/aws-ranges.js';
import { openDuckDb, query } from '../../observe/duckdb-session.js';
import { createFlowLogsView, resolveFiles } from '../../observe/duckdb-view.js';
import { observedFiles, queryInput, windowEnding } from '../../observe/observe.js';
import { decodeObserveRow, renderObserveQuery, type ObserveQueryInput, type RenderedQuery } from '../../observe/sql.js';
import { renderBaselineObserveQuery } from './baseline-sql.js';
import { benchEnvironment, ensureDataSet, WINDOW_DAYS, WINDOW_TO } from './generate.js';

const ROOT = join(import.meta.dirname, '..', '..');
/** Differences printed per comparison; the count says how many there are. */
const SHOWN = 10;

interface Outcome {
  rows: ObserveRow[];
  cpuSeconds: number;
}

/** Runs one renderer's query over the view, timed in CPU seconds of this process. */
async function run(
  connection: Parameters<typeof query>[0],
  render: (i: ObserveQueryInput) => RenderedQuery,
  input: ObserveQueryInput,
): Promise<Outcome> {
  const q = render(input);
  const c0 = process.cpuUsage();
  const rows = (await query(connection, q.sql, q.params)).map(decodeObserveRow);
  const c = process.cpuUsage(c0);
  return { rows, cpuSeconds: (c.user + c.system) / 1e6 };
}

/** The lines of `a` not in `b` (as a multiset), at most SHOWN of them, and how many there are. */
function missing(a: readonly string[], b: readonly string[]): { count: number; shown: string[] } {
  const left = new Map<string, number>();
  for (const x of b) left.set(x, (left.get(x) ?? 0) + 1);
  const out: string[] = [];
  for (const x of a) {
    const n = left.get(x) ?? 0;
    if (n > 0) left.set(x, n - 1);
    else out.push(x);
  }
  return { count: out.length, shown: out.slice(0, SHOWN) };
}

/** Compares both engines' rows and observed files for one environment; returns the number of differences. */
async function compare(
  label: string,
  root: string,
  environmentDir: string,
  config: EnvironmentConfig,
  window: ObserveWindow,
): Promise<number> {
  const duck = await openDuckDb({ memoryLimit: config.flowLogs.memoryLimit });
  try {
    const { connection } = duck;
    const files = await resolveFiles(connection, config.flowLogs.files, environmentDir, root);
    const input = queryInput('flow_logs', config.workloads, window, config.vpcCidrs);
    await createFlowLogsView(connection, files, input.winFrom);
    const baseline = await run(connection, renderBaselineObserveQuery, input);
    const fold = await run(connection, renderObserveQuery, input);
    const lines = (o: Outcome) => o.rows.map((r) => JSON.stringify(r));
    const yaml = (o: Outcome) => {
      const assembled = assembleObserved({
        environment: config.environment,
        workloads: Object.keys(config.workloads),
        window,
        retainDays: config.window.retainDays,
        rows: o.rows,
        engine: 'duckdb',
        previous: new Map(),
        serviceOf: awsServiceLookup(config.region),
      });
      return observedFiles(root, config.environment, assembled).flatMap((f) =>
        String(f.content)
          .split('\n')
          .map((l) => `${f.path.slice(root.length + 1)}: ${l}`),
      );
    };
    const kinds = (o: Outcome) =>
      [...new Set(o.rows.map((r) => r.kind))]
        .sort()
        .map((k) => `${k} ${o.rows.filter((r) => r.kind === k).length}`)
        .join(', ');
    console.log(
      `${label}: baseline ${baseline.cpuSeconds.toFixed(2)} CPU s, fold ${fold.cpuSeconds.toFixed(2)} CPU s (the query alone); rows: ${kinds(fold)}`,
    );
    let differences = 0;
    for (const [what, a, b] of [
      ['rows', lines(baseline), lines(fold)],
      ['observed files', yaml(baseline), yaml(fold)],
    ] as const) {
      const onlyBaseline = missing(a, b);
      const onlyFold = missing(b, a);
      // Same multiset and the same order: the query sorts its rows, the files are rendered in a fixed order.
      const sameOrder = a.length === b.length && a.every((x, i) => x === b[i]);
      if (onlyBaseline.count === 0 && onlyFold.count === 0 && sameOrder) {
        console.log(`  ${what}: identical (${a.length} lines)`);
        continue;
      }
      differences += Math.max(1, onlyBaseline.count + onlyFold.count);
      console.log(
        `  ${what}: DIFFERENT: ${onlyBaseline.count} only in the baseline, ${onlyFold.count} only in the fold${sameOrder ? '' : ', or in another order'}`,
      );
      for (const x of onlyBaseline.shown) console.log(`    - ${x}`);
      for (const x of onlyFold.shown) console.log(`    + ${x}`);
    }
    return differences;
  } finally {
    duck.close();
  }
}

function flag(args: string[], name: string, fallback: string): string {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1]! : fallback;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  let differences = 0;
  if (!args.includes('--no-example')) {
    for (const env of EXAMPLE_ENVS) {
      const { repo } = await readRepo(ROOT, { env });
      const policies = repo.environments.get(env)!;
      const config = policies.environment.value;
      const dir = join(ROOT, policies.environment.source.file, '..');
      differences += await compare(`example ${env}`, ROOT, dir, config, windowEnding(WINDOW_TO, config.window.days));
    }
  }
  if (!args.includes('--no-bench')) {
    const o = {
      records: Number(flag(args, 'records', '1000000')),
      files: Number(flag(args, 'files', '16')),
      seed: flag(args, 'seed', 'bench'),
    };
    const set = await ensureDataSet(o, (m) => process.stderr.write(`${m}\r`));
    const config = benchEnvironment([join(set.dir, '*.log.gz')]);
    differences += await compare(`bench ${set.records} records`, set.dir, set.dir, config, windowEnding(WINDOW_TO, WINDOW_DAYS));
  }
  console.log(differences === 0 ? 'identical' : `${differences} differences`);
  process.exitCode = differences === 0 ? 0 : 1;
}

await main();
