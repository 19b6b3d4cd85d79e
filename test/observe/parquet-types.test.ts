/**
 * Parquet is read with its own types: integer columns go to the table's integer columns without a detour through
 * text; a file whose writer stored every field as a string (`-` for absent, as in the text format) still reads the
 * same records.
 */
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openDuckDb } from '../../observe/duckdb-session.js';
import { createFlowLogsView, resolveFiles, sqlString } from '../../observe/duckdb-view.js';
import { columnName } from '../../observe/fields.js';
import { exchange, line, observeScenario, T0, V5, writeLogFiles, type Rec } from './helpers.js';

const WEB = '10.0.1.10';
const web = { web: { cidrs: ['10.0.1.0/24'] } };
const records = (): Rec[] => [
  ...exchange({ eni: 'eni-0web', src: WEB, sport: 51514, dst: '203.0.113.10', dport: 443, start: T0, flags: [2, 18] }),
  ...exchange({ eni: 'eni-0web', src: WEB, sport: 40000, dst: '10.0.0.53', dport: 53, protocol: 17, start: T0 + 60 }),
];

/** The records as a Parquet file whose every column is a string, `-` where a field is absent. */
async function stringParquet(recs: readonly Rec[]): Promise<Buffer> {
  const dir = await mkdtemp(join(tmpdir(), 'leastpath-parquet-'));
  const path = join(dir, 's.parquet');
  const rows = recs.map((r) => `(${line(V5, r).split(' ').map(sqlString).join(', ')})`).join(', ');
  const duck = await openDuckDb();
  try {
    await duck.connection.run(
      `COPY (SELECT * FROM (VALUES ${rows}) AS t (${V5.map((f) => `"${columnName(f)}"`).join(', ')})) TO ${sqlString(path)} (FORMAT parquet)`,
    );
  } finally {
    duck.close();
  }
  return readFile(path);
}

describe('Parquet columns keep their types', () => {
  it('typed integer columns are not cast to text and back', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'leastpath-parquet-'));
    await writeLogFiles(dir, [{ name: 'a.parquet', records: records() }]);
    const duck = await openDuckDb();
    try {
      const files = await resolveFiles(duck.connection, ['a.parquet'], dir, dir);
      await createFlowLogsView(duck.connection, files);
      const [row] = (await duck.connection.runAndReadAll("SELECT sql FROM duckdb_views() WHERE view_name = 'flow_logs'")).getRows();
      const sql = String(row?.[0]);
      for (const col of ['start', 'srcport', 'dstport', 'protocol', 'bytes', 'tcp_flags'])
        expect(sql, col).not.toMatch(new RegExp(`CAST\\("${col}" AS VARCHAR\\)`, 'i'));
      const [rec] = (
        await duck.connection.runAndReadAll('SELECT start, srcport, protocol FROM flow_logs ORDER BY start, srcport LIMIT 1')
      ).getRows();
      expect(rec?.map(Number)).toEqual([T0, 443, 6]);
    } finally {
      duck.close();
    }
  });

  it('a Parquet file of strings (`-` for absent) observes the same as a typed one', async () => {
    const typed = await observeScenario({ workloads: web, files: [{ name: 'a.parquet', records: records() }] });
    const strings = await observeScenario({ workloads: web, extraFiles: { 's.parquet': await stringParquet(records()) } });
    expect(strings.files.get('web')!.egress.length).toBe(2);
    expect(strings.files.get('web')).toEqual(typed.files.get('web'));
  });
});
