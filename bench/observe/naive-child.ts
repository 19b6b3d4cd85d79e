/**
 * The baseline observe is measured against: the egress query a user writes by hand after the usual article
 * (accepted records the interface sent, grouped by source, destination, port and protocol), on DuckDB with typed
 * columns, over the same files, measured like the engine (its own process). It is semantically wrong (a response
 * leaving a server counts as egress; no initiator, no NAT, no checks) and it is the cost a user compares with.
 * Prints one JSON line.
 *
 * Usage: node --import tsx bench/observe/naive-child.ts <data-set dir, or its -parquet twin>
 */
import { join, resolve } from 'node:path';
import { epochOf, addDays } from '../../core/dates.js';
import { openDuckDb } from '../../observe/duckdb-session.js';
import { sqlString } from '../../observe/duckdb-view.js';
import { columnName, fieldType } from '../../observe/fields.js';
import { windowEnding } from '../../observe/observe.js';
import { dataSetArg, measured, type ChildUsage } from './child.js';
import { FORMAT, WINDOW_DAYS, WINDOW_TO } from './generate.js';

export interface NaiveResult extends ChildUsage {
  /** Groups the query returned. */
  groups: number;
}

async function main(): Promise<void> {
  const dir = resolve(dataSetArg('naive-child.ts'));
  const parquet = dir.endsWith('-parquet');
  const columns = FORMAT.map((f) => `${sqlString(columnName(f))}: '${fieldType(f)}'`).join(', ');
  const source = parquet
    ? `read_parquet(${sqlString(join(dir, '*.parquet'))})`
    : `read_csv(${sqlString(join(dir, '*.log.gz'))}, delim = ' ', quote = '', escape = '', header = true, auto_detect = false, columns = {${columns}}, nullstr = '-')`;
  const window = windowEnding(WINDOW_TO, WINDOW_DAYS);
  const { value, usage } = await measured(async () => {
    const duck = await openDuckDb();
    try {
      const stmt = await duck.connection.prepare(
        `SELECT count(*) AS groups FROM (
           SELECT srcaddr, dstaddr, dstport, protocol, count(*) AS flows, sum(bytes) AS bytes, min(start) AS first_seen, max(start) AS last_seen
           FROM ${source}
           WHERE action = 'ACCEPT' AND log_status = 'OK' AND flow_direction = 'egress' AND start >= ? AND start < ?
           GROUP BY ALL)`,
      );
      stmt.bindBigInt(1, BigInt(epochOf(window.from)));
      stmt.bindBigInt(2, BigInt(epochOf(addDays(window.to, 1))));
      return Number((await stmt.runAndReadAll()).getRows()[0]![0]);
    } finally {
      duck.close();
    }
  });
  const result: NaiveResult = { ...usage, groups: value };
  console.log(JSON.stringify(result));
}

await main();
