/**
 * `npm run bench:athena-scans`: how many times observe's and report's SQL read the flow-log table on Athena.
 *
 * Trino (Athena engine v3) does not materialize a WITH query: every reference to it is planned again, down to
 * the table scan (trinodb/trino#18421). So a query reads the table once for every path from its final SELECT down
 * to the table through the WITH queries, and Athena bills the bytes of every read. DuckDB stores a WITH query that
 * is read more than once, so the same SQL reads the files once there; this figure is Athena's alone.
 *
 * It prints, per query over the bundled example's environments, the reads when every WITH query is inlined, against
 * the baseline of one read. No AWS call: the count is taken from the SQL text that observe and report send.
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadValidRepository } from '../../cli/load.js';
import { DEFAULT_ANOMALIES } from '../../model/normalise.js';
import { queryInput, windowEnding } from '../../observe/observe.js';
import { quoteRelation, renderObserveQuery } from '../../observe/sql.js';
import { renderReportQuery } from '../../verify/report-sql.js';

/** The WITH queries of `sql` (name -> body) and its final query; comments dropped. */
export function splitWith(sql: string): { ctes: Map<string, string>; main: string } {
  const text = sql.replace(/--[^\n]*/g, '');
  const ctes = new Map<string, string>();
  const start = /^\s*WITH\s/i.exec(text);
  if (!start) return { ctes, main: text };
  let at = start[0].length;
  for (;;) {
    const head = /^[\s,]*([A-Za-z_][A-Za-z0-9_]*)\s+AS\s+\(/.exec(text.slice(at));
    if (!head) break;
    const open = at + head[0].length - 1;
    let depth = 0;
    let close = open;
    for (; close < text.length; close++) {
      const ch = text[close];
      if (ch === "'")
        close = text.indexOf("'", close + 1); // a string literal ('' inside one is two of these)
      else if (ch === '(') depth++;
      else if (ch === ')' && --depth === 0) break;
    }
    ctes.set(head[1]!, text.slice(open + 1, close));
    at = close + 1;
  }
  return { ctes, main: text.slice(at) };
}

/** Reads of `relation` (as quoted in the SQL) when every WITH query is inlined at each FROM/JOIN that names it. */
export function inlinedScans(sql: string, relation: string): number {
  const { ctes, main } = splitWith(sql);
  const quoted = quoteRelation(relation);
  const memo = new Map<string, number>();
  const reads = (body: string): number => {
    let n = body.split(quoted).length - 1;
    for (const name of ctes.keys()) {
      const refs = body.match(new RegExp(`\\b(?:FROM|JOIN)\\s+${name}\\b`, 'gi'))?.length ?? 0;
      if (refs > 0) n += refs * of(name);
    }
    return n;
  };
  const of = (name: string): number => {
    if (!memo.has(name)) {
      memo.set(name, 0); // a WITH query cannot read itself (no RECURSIVE here)
      memo.set(name, reads(ctes.get(name)!));
    }
    return memo.get(name)!;
  };
  return reads(main);
}

async function main(): Promise<void> {
  const root = join(fileURLToPath(import.meta.url), '..', '..', '..');
  const relation = 'flowlogs.vpc_flow_logs';
  console.log('table reads on Athena (every WITH query inlined); baseline: 1 read of the window\n');
  console.log(`${'environment'.padEnd(12)}${'observe'.padStart(9)}${'report'.padStart(9)}`);
  const { repo } = await loadValidRepository(root, { today: '2026-11-23' });
  for (const [name, env] of [...repo.environments].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const config = env.environment.value;
    const input = queryInput(relation, config.workloads, windowEnding('2026-11-21', config.window.days), config.vpcCidrs);
    const observe = inlinedScans(renderObserveQuery(input).sql, relation);
    // The rules are VALUES rows: they change no read, so the report is measured without them.
    const report = inlinedScans(
      renderReportQuery({ ...input, rules: [], thresholds: config.anomalies ?? DEFAULT_ANOMALIES }).sql,
      relation,
    );
    console.log(`${name.padEnd(12)}${`${observe}x`.padStart(9)}${`${report}x`.padStart(9)}`);
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
