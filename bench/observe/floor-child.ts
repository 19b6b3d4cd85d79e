/**
 * The floor under any exact observe on DuckDB, measured like the engine (its own process, its own peak RSS): read
 * the same files with DuckDB's CSV reader, fields typed by the reader itself, and group the records by connection
 * (interface, 5-tuple, action) with the few aggregates every initiator decision needs (count, bytes, first start,
 * flags). Observe's decision order needs this grouping (the reverse record of a 5-tuple), so no exact engine on
 * DuckDB can be faster than this, nor hold less than one group per connection. Prints one JSON line.
 *
 * Usage: node --import tsx bench/observe/floor-child.ts <data-set dir>
 */
import { join, resolve } from 'node:path';
import { openDuckDb } from '../../observe/duckdb-session.js';
import { sqlString } from '../../observe/duckdb-view.js';
import { columnName, fieldType } from '../../observe/fields.js';
import { dataSetArg, measured, type ChildUsage } from './child.js';
import { FORMAT } from './generate.js';

export interface FloorResult extends ChildUsage {
  records: number;
  connections: number;
}

async function main(): Promise<void> {
  const files = sqlString(join(resolve(dataSetArg('floor-child.ts')), '*.log.gz'));
  const columns = FORMAT.map((f) => `${sqlString(columnName(f))}: '${fieldType(f)}'`).join(', ');
  const { value, usage } = await measured(async () => {
    const duck = await openDuckDb();
    const { connection } = duck;
    try {
      const reader = await connection.runAndReadAll(
        `SELECT sum(n) AS records, count(*) AS connections FROM (
           SELECT interface_id, srcaddr, dstaddr, srcport, dstport, protocol, action,
             count(*) AS n, sum(bytes) AS b, min(start) AS s, bit_or(tcp_flags) AS f
           FROM read_csv(${files}, delim = ' ', quote = '', escape = '', header = true, auto_detect = false,
             columns = {${columns}}, nullstr = '-')
           GROUP BY ALL)`,
      );
      return reader.getRows()[0]!.map(Number);
    } finally {
      duck.close();
    }
  });
  const result: FloorResult = { ...usage, records: value[0]!, connections: value[1]! };
  console.log(JSON.stringify(result));
}

await main();
