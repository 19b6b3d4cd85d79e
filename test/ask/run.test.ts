/**
 * The read-only DuckDB session of `ask --run`, called directly (below the validator), and the literal-to-parameter
 * rewrite: exact texts and values, refusals, and the same result as the literal query on real files.
 */
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parameterize } from '../../ask/params.js';
import { openReadOnlySession, type ReadOnlySession } from '../../ask/run.js';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { FLOW_LOG_COLUMNS } from '../../ask/schema.js';
import { checkSql } from '../../ask/sql-guard.js';

const HEADER = 'version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status vpc-id';
const T = Date.UTC(2026, 0, 2) / 1000;
const run = promisify(execFile);
const LOG = [
  HEADER,
  `2 123456789012 eni-1 10.0.0.1 10.0.0.2 40000 443 6 10 100 ${T} ${T + 60} ACCEPT OK vpc-1`,
  `2 123456789012 eni-1 10.0.0.2 10.0.0.1 443 40000 6 10 200 ${T + 1} ${T + 60} ACCEPT OK vpc-1`,
  `2 123456789012 eni-1 10.0.0.3 52.0.0.1 40001 443 6 3 300 ${T + 2} ${T + 60} REJECT OK vpc-1`,
  `2 123456789012 eni-1 10.0.0.3 52.0.0.9 40001 80 6 3 999 ${T + 86400} ${T + 86460} ACCEPT OK vpc-1`,
  '2 123456789012 eni-1 this line is not a record',
].join('\n');

let dir: string;
let session: ReadOnlySession;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'leastpath-ask-'));
  await writeFile(join(dir, 'a.log'), `${LOG}\n`);
  await writeFile(join(dir, 'secret.csv'), 'password\nhunter2\n');
  session = await openReadOnlySession({ patterns: ['*.log'], baseDir: dir, root: dir }, 'vpc_flow_logs');
});

afterAll(async () => {
  session?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('the read-only DuckDB session', () => {
  it('holds the flow logs as the table, with exactly the columns of the schema, without malformed lines', async () => {
    const all = await session.run('SELECT * FROM vpc_flow_logs ORDER BY bytes', []);
    expect(all.columns).toEqual(FLOW_LOG_COLUMNS.map((c) => c.name));
    expect(all.rows.map((r) => r[all.columns.indexOf('bytes')])).toEqual([100, 200, 300, 999]);
    expect(all.rows.map((r) => r[all.columns.indexOf('day')])).toEqual(['2026/01/02', '2026/01/02', '2026/01/02', '2026/01/03']);
    // every field of the file is there, whether observe reads it or not; a field the format leaves out is NULL
    expect(
      all.rows.map((r) => [r[all.columns.indexOf('vpc_id')], r[all.columns.indexOf('account_id')], r[all.columns.indexOf('version')]]),
    ).toEqual(Array.from({ length: 4 }, () => ['vpc-1', '123456789012', 2]));
    expect(new Set(all.rows.map((r) => r[all.columns.indexOf('pkt_srcaddr')]))).toEqual(new Set([null]));
  });

  it.each([
    ['a file outside the flow logs', "SELECT * FROM read_csv('/etc/passwd')"],
    ['a file beside the flow logs', (d: string) => `SELECT * FROM read_csv('${d}/secret.csv')`],
    ['a directory listing', "SELECT * FROM glob('/etc/*')"],
    ['an attached database', (d: string) => `ATTACH '${d}/x.db'`],
    ['a write', (d: string) => `COPY (SELECT 1) TO '${d}/out.csv'`],
    ['an extension', 'LOAD httpfs'],
  ])('refuses %s even past the validator', async (_name, sql) => {
    const text = typeof sql === 'string' ? sql : sql(dir);
    await expect(session.run(text, [])).rejects.toThrow(/the query failed on duckdb: .*(disabled by configuration|Permission Error)/);
  });

  it('runs the Athena functions the validator allows that DuckDB names otherwise', async () => {
    const r = await session.run(
      `SELECT approx_distinct(dstaddr) AS n, min(to_unixtime(from_unixtime("start"))) AS s FROM vpc_flow_logs WHERE day = '2026/01/02'`,
      [],
    );
    expect(r).toEqual({ columns: ['n', 's'], rows: [[3, T]] });
  });

  it("answers in UTC, as Athena does, whatever the machine's time zone", async () => {
    // A child process in Los Angeles (UTC-8): its local day of the record at 00:00:02 UTC is the day before.
    const script = [
      `import { openReadOnlySession } from ${JSON.stringify(join(import.meta.dirname, '..', '..', 'ask', 'run.ts'))};`,
      `const s = await openReadOnlySession({ patterns: ['*.log'], baseDir: ${JSON.stringify(dir)}, root: ${JSON.stringify(dir)} }, 'vpc_flow_logs');`,
      `const r = await s.run("SELECT CAST(CAST(date_trunc('day', from_unixtime(min(start))) AS DATE) AS VARCHAR) AS d FROM vpc_flow_logs WHERE day = '2026/01/02'", []);`,
      's.close();',
      'console.log(r.rows[0][0]);',
    ].join('\n');
    const { stdout } = await run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      env: { ...process.env, TZ: 'America/Los_Angeles' },
    });
    expect(stdout.trim()).toBe('2026-01-02');
  });

  it('cannot be unlocked', async () => {
    for (const sql of [
      'SET enable_external_access = true',
      "SET allowed_paths = ['/etc/passwd']",
      'RESET enable_external_access',
      'SET lock_configuration = false',
    ]) {
      await expect(session.run(sql, [])).rejects.toThrow(/the configuration has been locked/);
    }
    await expect(session.run("SELECT * FROM read_csv('/etc/passwd')", [])).rejects.toThrow(/disabled by configuration/);
    await expect(stat(join(dir, 'out.csv'))).rejects.toThrow(/ENOENT/);
  });
});

const policy = { table: 'vpc_flow_logs', columns: FLOW_LOG_COLUMNS.map((c) => c.name), partitionColumn: 'day', maxLimit: 1000 };
const W = "WHERE day = '2026/01/02'";

/** Accepted queries: the text sent to the engine and the values, in order. */
const rewrites: [sql: string, text: string, params: (string | number)[]][] = [
  [
    `SELECT dstaddr, sum(bytes) AS total FROM vpc_flow_logs ${W} AND action = 'ACCEPT' GROUP BY 1 ORDER BY 2 DESC LIMIT 10`,
    'SELECT dstaddr, sum(bytes) AS total FROM vpc_flow_logs WHERE day = ? AND action = ? GROUP BY 1 ORDER BY 2 DESC LIMIT 10',
    ['2026/01/02', 'ACCEPT'],
  ],
  [
    `SELECT 'It''s  A' AS "Label" FROM vpc_flow_logs ${W}`,
    'SELECT ? AS "Label" FROM vpc_flow_logs WHERE day = ? LIMIT 1000',
    ["It's  A", '2026/01/02'],
  ],
  [
    `SELECT srcaddr FROM vpc_flow_logs ${W} AND dstport IN (443, 80) AND -bytes < 0`,
    'SELECT srcaddr FROM vpc_flow_logs WHERE day = ? AND dstport IN (?, ?) AND -bytes < ? LIMIT 1000',
    ['2026/01/02', 443, 80, 0],
  ],
  [
    `SELECT substr(srcaddr, 1, 3) AS p, bytes / 2.5 AS b FROM vpc_flow_logs ${W} ORDER BY 1, b LIMIT 5 OFFSET 1`,
    'SELECT substr(srcaddr, ?, ?) AS p, bytes / ? AS b FROM vpc_flow_logs WHERE day = ? ORDER BY 1, b LIMIT 5 OFFSET 1',
    [1, 3, 2.5, '2026/01/02'],
  ],
  [
    `SELECT dstport, count(*) AS n FROM vpc_flow_logs ${W} GROUP BY 1 HAVING count(*) > 0 ORDER BY 2 DESC, 1`,
    'SELECT dstport, count(*) AS n FROM vpc_flow_logs WHERE day = ? GROUP BY 1 HAVING count(*) > ? ORDER BY 2 DESC, 1 LIMIT 1000',
    ['2026/01/02', 0],
  ],
  [
    "WITH t AS (SELECT srcaddr, bytes FROM vpc_flow_logs WHERE day BETWEEN '2026/01/01' AND '2026/01/31' LIMIT 50) SELECT srcaddr, CASE WHEN sum(bytes) > 150 THEN 'big' ELSE 'small' END AS size FROM t GROUP BY srcaddr ORDER BY srcaddr",
    'WITH t AS (SELECT srcaddr, bytes FROM vpc_flow_logs WHERE day BETWEEN ? AND ? LIMIT 50) SELECT srcaddr, CASE WHEN sum(bytes) > ? THEN ? ELSE ? END AS size FROM t GROUP BY srcaddr ORDER BY srcaddr LIMIT 1000',
    ['2026/01/01', '2026/01/31', 150, 'big', 'small'],
  ],
  [
    `SELECT srcaddr, row_number() OVER (PARTITION BY srcaddr ORDER BY bytes DESC) AS r FROM vpc_flow_logs ${W} AND action <> '-- ; DROP TABLE x' ORDER BY r, srcaddr`,
    'SELECT srcaddr, row_number() OVER (PARTITION BY srcaddr ORDER BY bytes DESC) AS r FROM vpc_flow_logs WHERE day = ? AND action <> ? ORDER BY r, srcaddr LIMIT 1000',
    ['2026/01/02', '-- ; DROP TABLE x'],
  ],
  [
    `SELECT 'x' || dstaddr, bytes * 2 FROM vpc_flow_logs ${W} ORDER BY 2`,
    'SELECT ? || dstaddr, bytes * ? FROM vpc_flow_logs WHERE day = ? ORDER BY 2 LIMIT 1000',
    ['x', 2, '2026/01/02'],
  ],
];

/** Accepted queries whose values cannot all become parameters, and why. */
const unsound: [sql: string, reason: string][] = [
  [`SELECT bytes FROM vpc_flow_logs ${W} AND bytes > 99999999999999999999`, 'the number 99999999999999999999 is too large to pass exactly'],
  [`SELECT srcaddr FROM vpc_flow_logs ${W} ORDER BY -1`, 'its GROUP BY / ORDER BY positions could not be located'],
  [`SELECT CAST(bytes AS DECIMAL(10,2)) FROM vpc_flow_logs ${W}`, 'its numbers could not all be located'],
];

const accepted = (sql: string): string => {
  const c = checkSql(sql, policy);
  if (!c.ok) throw new Error(c.reason);
  return c.sql;
};

describe('parameterize', () => {
  it.each(rewrites)('%s', (sql, text, params) => {
    const p = parameterize(accepted(sql));
    if (!p.ok) throw new Error(p.reason);
    expect({ sql: p.sql, params: p.params }).toEqual({ sql: text, params });
  });

  it.each(unsound)('refuses %s', (sql, reason) => {
    expect(parameterize(accepted(sql))).toEqual({ ok: false, reason: `cannot pass the query's values as parameters: ${reason}` });
  });

  it.each(rewrites)('gives the result of the literal query: %s', async (sql) => {
    const literal = await session.run(accepted(sql), []);
    const p = parameterize(accepted(sql));
    if (!p.ok) throw new Error(p.reason);
    expect(literal.rows.length).toBeGreaterThan(0);
    expect(await session.run(p.sql, p.params)).toEqual(literal);
  });
});

/**
 * Analyst queries that were refused or broke under --run (issue 15): the `?` text Athena gets with its literals,
 * the `$n` text DuckDB gets, and the DuckDB answer equal to the literal query's (Athena substitutes the literals
 * into the `?` text: that text, so substituted, must give the same answer too).
 */
const analyst: [name: string, sql: string, athena: string, literals: string[], duckdb: string][] = [
  [
    'GROUP BY an expression with literals',
    `SELECT substr(srcaddr, 1, 6) AS net, count(*) AS n FROM vpc_flow_logs ${W} GROUP BY substr(srcaddr, 1, 6) ORDER BY 1`,
    'SELECT substr(srcaddr, ?, ?) AS net, count(*) AS n FROM vpc_flow_logs WHERE day = ? GROUP BY substr(srcaddr, ?, ?) ORDER BY 1 LIMIT 1000',
    ['1', '6', "'2026/01/02'", '1', '6'],
    'SELECT substr(srcaddr, $1, $2) AS net, count(*) AS n FROM vpc_flow_logs WHERE day = $3 GROUP BY substr(srcaddr, $1, $2) ORDER BY 1 LIMIT 1000',
  ],
  [
    'a decimal number keeps its text for Athena',
    `SELECT srcaddr, sum(bytes) / 1048576.0 AS mib FROM vpc_flow_logs ${W} GROUP BY srcaddr ORDER BY srcaddr`,
    'SELECT srcaddr, sum(bytes) / ? AS mib FROM vpc_flow_logs WHERE day = ? GROUP BY srcaddr ORDER BY srcaddr LIMIT 1000',
    ['1048576.0', "'2026/01/02'"],
    'SELECT srcaddr, sum(bytes) / $1 AS mib FROM vpc_flow_logs WHERE day = $2 GROUP BY srcaddr ORDER BY srcaddr LIMIT 1000',
  ],
  [
    'INTERVAL and TIMESTAMP literals',
    `SELECT count(*) AS n FROM vpc_flow_logs ${W} AND from_unixtime("start") >= TIMESTAMP '2026-01-03 00:00:00' - INTERVAL '1' DAY`,
    'SELECT count(*) AS n FROM vpc_flow_logs WHERE day = ? AND from_unixtime("start") >= CAST(? AS TIMESTAMP) - (? * INTERVAL \'1\' DAY) LIMIT 1000',
    ["'2026/01/02'", "'2026-01-03 00:00:00'", '1'],
    'SELECT count(*) AS n FROM vpc_flow_logs WHERE day = $1 AND from_unixtime("start") >= CAST($2 AS TIMESTAMP) - ($3 * INTERVAL \'1\' DAY) LIMIT 1000',
  ],
  [
    'EXTRACT, IS DISTINCT FROM, split_part and a quoted "day"',
    `SELECT EXTRACT(HOUR FROM from_unixtime("start")) AS h, split_part(dstaddr, '.', 1) AS a, count(*) AS n FROM vpc_flow_logs WHERE "day" >= '2026/01/01' AND srcaddr IS DISTINCT FROM dstaddr GROUP BY EXTRACT(HOUR FROM from_unixtime("start")), split_part(dstaddr, '.', 1) ORDER BY 2, 1`,
    `SELECT EXTRACT(HOUR FROM from_unixtime("start")) AS h, split_part(dstaddr, ?, ?) AS a, count(*) AS n FROM vpc_flow_logs WHERE "day" >= ? AND srcaddr IS DISTINCT FROM dstaddr GROUP BY EXTRACT(HOUR FROM from_unixtime("start")), split_part(dstaddr, ?, ?) ORDER BY 2, 1 LIMIT 1000`,
    ["'.'", '1', "'2026/01/01'", "'.'", '1'],
    `SELECT EXTRACT(HOUR FROM from_unixtime("start")) AS h, split_part(dstaddr, $1, $2) AS a, count(*) AS n FROM vpc_flow_logs WHERE "day" >= $3 AND srcaddr IS DISTINCT FROM dstaddr GROUP BY EXTRACT(HOUR FROM from_unixtime("start")), split_part(dstaddr, $1, $2) ORDER BY 2, 1 LIMIT 1000`,
  ],
  [
    'numbers written 1.50 and 1e3',
    `SELECT count(*) AS n FROM vpc_flow_logs ${W} AND bytes * 1.50 > 1e2`,
    'SELECT count(*) AS n FROM vpc_flow_logs WHERE day = ? AND bytes * ? > ? LIMIT 1000',
    ["'2026/01/02'", '1.50', '1e2'],
    'SELECT count(*) AS n FROM vpc_flow_logs WHERE day = $1 AND bytes * $2 > $3 LIMIT 1000',
  ],
];

/** The `?` text with Athena's execution parameters put in its places, as Athena does. */
function substituted(sql: string, literals: readonly string[]): string {
  let i = 0;
  return sql.replace(/\?/g, () => literals[i++]!);
}

describe('analyst queries pass the check, run on DuckDB, and keep the Athena dialect', () => {
  it.each(analyst)('%s', async (_name, sql, athena, literals, duckdb) => {
    const p = parameterize(accepted(sql));
    if (!p.ok) throw new Error(p.reason);
    expect({ sql: p.sql, literals: p.literals, numbered: p.numbered.sql }).toEqual({ sql: athena, literals, numbered: duckdb });
    const literal = await session.run(accepted(sql), []);
    expect(literal.rows.length).toBeGreaterThan(0);
    const bound = await session.run(p.numbered.sql, p.numbered.params, p.numbered.types);
    expect(bound.rows).toEqual(literal.rows);
    expect((await session.run(substituted(p.sql, p.literals), [])).rows).toEqual(literal.rows);
  });
});
