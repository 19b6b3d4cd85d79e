import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DuckDBConnection } from '@duckdb/node-api';
import { openDuckDb, type DuckDbHandle } from '../../observe/duckdb-session.js';
import { DEFAULT_MAX_LIMIT, FLOW_LOG_COLUMNS, PARTITION_COLUMN } from '../../ask/schema.js';
import { checkSql, type SqlPolicy } from '../../ask/sql-guard.js';

const policy: SqlPolicy = {
  table: 'vpc_flow_logs',
  columns: FLOW_LOG_COLUMNS.map((c) => c.name),
  partitionColumn: PARTITION_COLUMN,
  maxLimit: DEFAULT_MAX_LIMIT,
};

const W = "WHERE day = '2026/01/02'";
const T = `FROM vpc_flow_logs ${W}`;

/** Accepted: the input, the exact printed SQL (undefined: input + ` LIMIT 1000`), the limit; `athena`: not runnable on DuckDB. */
const accepted: [name: string, sql: string, printed: string | undefined, limit: number, athena?: boolean][] = [
  ['plain select, LIMIT added', `SELECT srcaddr, dstaddr ${T}`, undefined, 1000],
  ['star on the table', `SELECT * ${T}`, undefined, 1000],
  ['LIMIT kept when below the maximum', `SELECT srcaddr ${T} LIMIT 10`, `SELECT srcaddr ${T} LIMIT 10`, 10],
  ['LIMIT equal to the maximum', `SELECT srcaddr ${T} LIMIT 1000`, `SELECT srcaddr ${T} LIMIT 1000`, 1000],
  ['LIMIT clamped in place', `SELECT srcaddr ${T} limit   5000`, `SELECT srcaddr ${T} limit   1000`, 1000],
  ['LIMIT with OFFSET clamped', `SELECT srcaddr ${T} LIMIT 99999 OFFSET 0`, `SELECT srcaddr ${T} LIMIT 1000 OFFSET 0`, 1000],
  ['trailing semicolon and blanks dropped', `  SELECT srcaddr ${T} ;  `, `SELECT srcaddr ${T} LIMIT 1000`, 1000],
  [
    'literals kept exactly (quotes, case, spacing)',
    `SELECT 'It''s  A'   AS "Label", srcaddr FROM vpc_flow_logs WHERE day = '2026/01/02' AND action = 'ACCEPT'`,
    undefined,
    1000,
  ],
  ['keyword case and newlines kept', `select srcaddr\nfrom VPC_FLOW_LOGS\nwhere DAY = '2026/01/02'`, undefined, 1000],
  [
    'aggregate with GROUP BY and ORDER BY alias',
    `SELECT dstaddr, count(*) AS flows, sum(bytes) AS total ${T} GROUP BY dstaddr ORDER BY total DESC`,
    undefined,
    1000,
  ],
  ['COUNT DISTINCT', `SELECT count(DISTINCT dstaddr) AS n ${T}`, undefined, 1000],
  ['min max avg', `SELECT min(bytes), max(bytes), avg(packets) ${T}`, undefined, 1000],
  ['HAVING', `SELECT srcaddr, count(*) AS n ${T} GROUP BY srcaddr HAVING count(*) >= 1`, undefined, 1000],
  ['GROUP BY and ORDER BY position', `SELECT dstport, count(*) ${T} GROUP BY 1 ORDER BY 2 DESC`, undefined, 1000],
  ['SELECT DISTINCT', `SELECT DISTINCT dstport ${T}`, undefined, 1000],
  ['day range with BETWEEN', "SELECT srcaddr FROM vpc_flow_logs WHERE day BETWEEN '2026/01/01' AND '2026/01/31'", undefined, 1000],
  ['day bounded from below, the literal on the left', "SELECT srcaddr FROM vpc_flow_logs WHERE '2026/01/02' <= day", undefined, 1000],
  ['day IN list', "SELECT srcaddr FROM vpc_flow_logs WHERE day IN ('2026/01/02', '2026/01/03')", undefined, 1000],
  ['day lower bound, literal on the left', "SELECT srcaddr FROM vpc_flow_logs WHERE '2026/01/01' <= day", undefined, 1000],
  ['day OR day', "SELECT srcaddr FROM vpc_flow_logs WHERE (day = '2026/01/02' OR day = '2026/01/03') AND dstport = 443", undefined, 1000],
  [
    'day filter among other AND terms',
    "SELECT srcaddr FROM vpc_flow_logs WHERE dstport = 443 AND day >= '2026/01/01' AND action = 'ACCEPT'",
    undefined,
    1000,
  ],
  [
    'qualified by the table name',
    "SELECT vpc_flow_logs.srcaddr FROM vpc_flow_logs WHERE vpc_flow_logs.day = '2026/01/02'",
    undefined,
    1000,
  ],
  ['alias', "SELECT f.srcaddr FROM vpc_flow_logs AS f WHERE f.day = '2026/01/02'", undefined, 1000],
  ['double-quoted column names ("end" is reserved)', `SELECT "start", "end", "srcaddr" ${T}`, undefined, 1000],
  [
    'CASE, CAST, COALESCE',
    `SELECT CASE WHEN action = 'ACCEPT' THEN 1 ELSE 0 END AS ok, CAST(bytes AS DOUBLE) / 2 AS half, coalesce(pkt_srcaddr, srcaddr) ${T}`,
    undefined,
    1000,
  ],
  [
    'string functions and LIKE',
    `SELECT lower(action), upper(log_status), substr(srcaddr, 1, 3), length(interface_id) ${T} AND dstaddr LIKE '10.%'`,
    undefined,
    1000,
  ],
  [
    'NOT, IS NULL, unary minus',
    `SELECT srcaddr ${T} AND NOT (bytes IS NULL) AND -bytes < 0 AND pkt_dst_aws_service IS NOT NULL OR 1 = 0 AND day = '2026/01/02'`,
    undefined,
    1000,
  ],
  ['IN list and NOT IN', `SELECT srcaddr ${T} AND dstport IN (443, 80) AND protocol NOT IN (1)`, undefined, 1000],
  ['window function', `SELECT srcaddr, row_number() OVER (PARTITION BY srcaddr ORDER BY bytes DESC) AS r ${T} ORDER BY r`, undefined, 1000],
  [
    'CTE over the table',
    "WITH t AS (SELECT srcaddr, bytes FROM vpc_flow_logs WHERE day >= '2026/01/01') SELECT srcaddr, sum(bytes) FROM t GROUP BY srcaddr",
    undefined,
    1000,
  ],
  [
    'two CTEs, the second over the first',
    "WITH a AS (SELECT * FROM vpc_flow_logs WHERE day = '2026/01/02'), b AS (SELECT dstaddr AS d, bytes FROM a) SELECT d, max(bytes) AS m FROM b GROUP BY d",
    undefined,
    1000,
  ],
  ['subquery in FROM', "SELECT s.srcaddr FROM (SELECT srcaddr FROM vpc_flow_logs WHERE day = '2026/01/02') AS s", undefined, 1000],
  [
    'IN subquery over the same table',
    `SELECT srcaddr ${T} AND dstaddr IN (SELECT srcaddr FROM vpc_flow_logs WHERE day = '2026/01/02')`,
    undefined,
    1000,
  ],
  [
    'EXISTS correlated over the same table',
    `SELECT f.srcaddr FROM vpc_flow_logs f WHERE f.day = '2026/01/02' AND EXISTS (SELECT 1 FROM vpc_flow_logs g WHERE g.day = '2026/01/02' AND g.dstaddr = f.srcaddr)`,
    undefined,
    1000,
  ],
  [
    'self-join, each side filtered',
    "SELECT a.srcaddr, b.dstaddr FROM vpc_flow_logs a JOIN vpc_flow_logs b ON a.dstaddr = b.srcaddr WHERE a.day = '2026/01/02' AND b.day = '2026/01/02'",
    undefined,
    1000,
  ],
  [
    'UNION ALL, both branches filtered; LIMIT applies to the whole',
    `SELECT srcaddr ${T} UNION ALL SELECT dstaddr ${T} LIMIT 3`,
    `SELECT srcaddr ${T} UNION ALL SELECT dstaddr ${T} LIMIT 3`,
    3,
  ],
  [
    'string literal that looks like a comment or a statement',
    `SELECT srcaddr ${T} AND action <> '-- ; DROP TABLE x /* */'`,
    undefined,
    1000,
  ],
  ['string literal ending in LIMIT text', `SELECT srcaddr ${T} AND action <> 'LIMIT 5'`, undefined, 1000],
  ['interval arithmetic (Athena)', `SELECT srcaddr ${T} AND from_unixtime(start) > current_date - INTERVAL '1' DAY`, undefined, 1000, true],
  ['quoted "day" as the partition filter', `SELECT srcaddr FROM vpc_flow_logs WHERE "day" = '2026/01/02'`, undefined, 1000],
  ['quoted "day" qualified by an alias', `SELECT f.srcaddr FROM vpc_flow_logs f WHERE f."day" >= '2026/01/02'`, undefined, 1000],
  [
    'GROUP BY an expression with literals',
    `SELECT substr(srcaddr, 1, 6) AS net, count(*) ${T} GROUP BY substr(srcaddr, 1, 6)`,
    undefined,
    1000,
  ],
  ['a decimal number', `SELECT sum(bytes) / 1048576.0 AS mib ${T}`, undefined, 1000],
  [
    'EXTRACT',
    `SELECT EXTRACT(HOUR FROM from_unixtime("start")) AS h, extract(day FROM from_unixtime("start")) AS d ${T}`,
    undefined,
    1000,
    true,
  ],
  [
    'TIMESTAMP and DATE literals',
    `SELECT srcaddr ${T} AND from_unixtime("start") >= TIMESTAMP '2026-01-02 00:00:00' AND from_unixtime("start") < DATE '2026-01-03'`,
    undefined,
    1000,
    true,
  ],
  [
    'IS DISTINCT FROM and IS NOT DISTINCT FROM',
    `SELECT srcaddr ${T} AND pkt_srcaddr IS DISTINCT FROM NULL AND srcaddr IS NOT DISTINCT FROM pkt_srcaddr`,
    undefined,
    1000,
  ],
  ['"is distinct from" inside a string stays a string', `SELECT srcaddr ${T} AND action <> 'x IS DISTINCT FROM y'`, undefined, 1000],
  ['split_part', `SELECT split_part(srcaddr, '.', 1) AS a ${T}`, undefined, 1000],
];

/** Refused: the input and the exact one-line reason. */
const refused: [name: string, sql: string, reason: string][] = [
  ['unknown column', `SELECT foo ${T}`, 'column "foo" is not in vpc_flow_logs'],
  [
    'unknown column in WHERE',
    "SELECT srcaddr FROM vpc_flow_logs WHERE day = '2026/01/02' AND password = 'x'",
    'column "password" is not in vpc_flow_logs',
  ],
  [
    'unknown qualified column',
    "SELECT f.secret FROM vpc_flow_logs f WHERE f.day = '2026/11/21'",
    'column "secret" is not in vpc_flow_logs',
  ],
  ['unknown double-quoted column', `SELECT "region" ${T}`, 'column "region" is not in vpc_flow_logs'],
  [
    'other table',
    "SELECT * FROM users WHERE day = '2026/11/21'",
    'table "users" is not allowed: only vpc_flow_logs and the query\'s own CTEs',
  ],
  [
    'cross-database name',
    "SELECT * FROM other.vpc_flow_logs WHERE day = '2026/11/21'",
    'qualified name "other.vpc_flow_logs" is not allowed: name the table as vpc_flow_logs',
  ],
  ['information_schema', 'SELECT * FROM information_schema.tables', 'system table "information_schema.tables" is not allowed'],
  ['pg_catalog', 'SELECT * FROM pg_catalog.pg_tables', 'system table "pg_catalog.pg_tables" is not allowed'],
  ['duckdb metadata table', 'SELECT * FROM duckdb_tables', 'system table "duckdb_tables" is not allowed'],
  ['no FROM', 'SELECT 1', 'a SELECT must read from vpc_flow_logs'],
  [
    'no day filter',
    'SELECT srcaddr FROM vpc_flow_logs',
    'no filter on the partition column "day" of vpc_flow_logs (e.g. WHERE day >= \'2026/01/01\')',
  ],
  [
    'day filter under OR with another column',
    "SELECT srcaddr FROM vpc_flow_logs WHERE day = '2026/11/21' OR dstport = 443",
    'no filter on the partition column "day" of vpc_flow_logs (e.g. WHERE day >= \'2026/01/01\')',
  ],
  [
    'day compared with a column, not a literal',
    'SELECT srcaddr FROM vpc_flow_logs WHERE day = srcaddr',
    'no filter on the partition column "day" of vpc_flow_logs (e.g. WHERE day >= \'2026/01/01\')',
  ],
  [
    'day <> does not bound',
    "SELECT srcaddr FROM vpc_flow_logs WHERE day <> 'x'",
    'no filter on the partition column "day" of vpc_flow_logs (e.g. WHERE day >= \'2026/01/01\')',
  ],
  [
    'day bounded by a literal that is no day',
    "SELECT srcaddr FROM vpc_flow_logs WHERE day >= ''",
    'no filter on the partition column "day" of vpc_flow_logs (e.g. WHERE day >= \'2026/01/01\')',
  ],
  [
    'day BETWEEN literals that are no days',
    "SELECT srcaddr FROM vpc_flow_logs WHERE day BETWEEN '' AND 'z'",
    'no filter on the partition column "day" of vpc_flow_logs (e.g. WHERE day >= \'2026/01/01\')',
  ],
  [
    'day bounded from above only',
    "SELECT srcaddr FROM vpc_flow_logs WHERE day < '2026/11/21'",
    'no filter on the partition column "day" of vpc_flow_logs (e.g. WHERE day >= \'2026/01/01\')',
  ],
  [
    'an OR of bounds that together cover every day',
    "SELECT srcaddr FROM vpc_flow_logs WHERE day >= '2026/11/21' OR day < '2026/11/21'",
    'no filter on the partition column "day" of vpc_flow_logs (e.g. WHERE day >= \'2026/01/01\')',
  ],
  [
    'day filter in HAVING only',
    "SELECT day, count(*) FROM vpc_flow_logs GROUP BY day HAVING day = '2026/11/21'",
    'no filter on the partition column "day" of vpc_flow_logs (e.g. WHERE day >= \'2026/01/01\')',
  ],
  [
    'outer day filter over an unfiltered CTE',
    "WITH t AS (SELECT * FROM vpc_flow_logs) SELECT * FROM t WHERE day = '2026/11/21'",
    'no filter on the partition column "day" of vpc_flow_logs (e.g. WHERE day >= \'2026/01/01\')',
  ],
  [
    'self-join filtered on one side only',
    "SELECT a.srcaddr FROM vpc_flow_logs a JOIN vpc_flow_logs b ON a.dstaddr = b.srcaddr WHERE a.day = '2026/11/21'",
    'no filter on the partition column "day" of vpc_flow_logs (e.g. WHERE day >= \'2026/01/01\')',
  ],
  [
    'UNION branch without day filter',
    `SELECT srcaddr ${T} UNION ALL SELECT srcaddr FROM vpc_flow_logs`,
    'no filter on the partition column "day" of vpc_flow_logs (e.g. WHERE day >= \'2026/01/01\')',
  ],
  ['INSERT', "INSERT INTO vpc_flow_logs (srcaddr) VALUES ('x')", 'only SELECT is allowed, not INSERT'],
  ['DELETE', "DELETE FROM vpc_flow_logs WHERE day = '2026/11/21'", 'only SELECT is allowed, not DELETE'],
  ['DROP', 'DROP TABLE vpc_flow_logs', 'only SELECT is allowed, not DROP'],
  ['unknown function', `SELECT md5(srcaddr) ${T}`, 'function md5 is not allowed'],
  ['cast to an unlisted type', `SELECT CAST(srcaddr AS JSON) ${T}`, 'cast to JSON is not allowed'],
  ['LIMIT a, b', `SELECT srcaddr ${T} LIMIT 5, 10`, 'only LIMIT n or LIMIT n OFFSET m is allowed'],
  ['empty', '   ', 'empty query'],
  ['unparseable', 'SELEC srcaddr FROM vpc_flow_logs', 'cannot parse the query (line 1, column 7)'],
  ['unterminated string', "SELECT srcaddr FROM vpc_flow_logs WHERE day = 'x", 'unterminated string literal'],
  [
    'day bounded from below by no calendar day',
    "SELECT srcaddr FROM vpc_flow_logs WHERE day >= '0000/00/00'",
    "'0000/00/00' is not a calendar day: bound day from below with a real day (e.g. WHERE day >= '2026/01/01')",
  ],
  [
    'day BETWEEN no calendar days',
    "SELECT srcaddr FROM vpc_flow_logs WHERE day BETWEEN '0000/00/00' AND '9999/99/99'",
    "'0000/00/00' is not a calendar day: bound day from below with a real day (e.g. WHERE day >= '2026/01/01')",
  ],
  [
    'EXTRACT of a field the engines number differently',
    `SELECT EXTRACT(DOW FROM from_unixtime("start")) ${T}`,
    'EXTRACT(DOW ...) is not allowed: use one of YEAR, QUARTER, MONTH, WEEK, DAY, HOUR, MINUTE, SECOND',
  ],
  [
    'INTERVAL with an unquoted count (not Athena)',
    `SELECT srcaddr ${T} AND from_unixtime(start) > current_date - INTERVAL 1 DAY`,
    "an INTERVAL takes a quoted whole number, as in INTERVAL '7' DAY",
  ],
  [
    'INTERVAL with a fraction',
    `SELECT srcaddr ${T} AND from_unixtime(start) > current_date - INTERVAL '1.5' DAY`,
    "an INTERVAL takes a quoted whole number, as in INTERVAL '7' DAY",
  ],
];

/** Known bypass shapes: each must be refused (reason checked exactly). */
const bypasses: [name: string, sql: string, reason: string][] = [
  ['stacked statements', `SELECT srcaddr ${T}; DROP TABLE vpc_flow_logs`, 'more than one statement'],
  ['stacked SELECTs', `SELECT srcaddr ${T}; SELECT * FROM users`, 'more than one statement'],
  ['stacked after a string with a semicolon', `SELECT ';' ${T}; DELETE FROM vpc_flow_logs`, 'more than one statement'],
  ['line comment hiding the rest', `SELECT srcaddr ${T} -- AND dstport = 443`, 'comments are not allowed'],
  ['block comment', `SELECT /* x */ srcaddr ${T}`, 'comments are not allowed'],
  ['comment swallowing the day filter', `SELECT srcaddr FROM vpc_flow_logs /* ${W} */`, 'comments are not allowed'],
  ['hash comment', `SELECT srcaddr ${T} # x`, 'comments are not allowed'],
  [
    'backslash-escaped quote (parser and engine disagree)',
    "SELECT srcaddr FROM vpc_flow_logs WHERE day = 'a\\' OR 1=1 --'",
    'backslash in the query',
  ],
  [
    'CTE shadowing the table',
    "WITH vpc_flow_logs AS (SELECT * FROM users) SELECT * FROM vpc_flow_logs WHERE day = '2026/11/21'",
    'CTE "vpc_flow_logs" shadows the table vpc_flow_logs',
  ],
  [
    'CTE shadowing the table, other case',
    "WITH VPC_Flow_Logs AS (SELECT srcaddr FROM vpc_flow_logs WHERE day = '2026/11/21') SELECT * FROM vpc_flow_logs WHERE day = '2026/11/21'",
    'CTE "vpc_flow_logs" shadows the table vpc_flow_logs',
  ],
  [
    'CTE defined twice',
    "WITH a AS (SELECT * FROM vpc_flow_logs WHERE day = '2026/11/21'), a AS (SELECT * FROM users) SELECT * FROM a",
    'CTE "a" is defined twice',
  ],
  [
    'CTE smuggling another table',
    `WITH t AS (SELECT * FROM users) SELECT * FROM t`,
    'table "users" is not allowed: only vpc_flow_logs and the query\'s own CTEs',
  ],
  [
    'CTE used before it is defined',
    "WITH a AS (SELECT * FROM b), b AS (SELECT * FROM vpc_flow_logs WHERE day = '2026/11/21') SELECT * FROM a",
    'table "b" is not allowed: only vpc_flow_logs and the query\'s own CTEs',
  ],
  [
    'CTE column that the CTE does not have',
    "WITH t AS (SELECT srcaddr FROM vpc_flow_logs WHERE day = '2026/11/21') SELECT bytes FROM t",
    'column "bytes" is not in "t"',
  ],
  [
    'parenthesised table list',
    "SELECT * FROM (vpc_flow_logs, users) WHERE day = '2026/11/21'",
    'parenthesised table lists are not allowed',
  ],
  [
    'comma join with another table',
    "SELECT * FROM vpc_flow_logs, users WHERE day = '2026/11/21'",
    'table "users" is not allowed: only vpc_flow_logs and the query\'s own CTEs',
  ],
  [
    'JOIN another table',
    "SELECT * FROM vpc_flow_logs f JOIN users u ON f.srcaddr = u.ip WHERE f.day = '2026/11/21'",
    'table "users" is not allowed: only vpc_flow_logs and the query\'s own CTEs',
  ],
  [
    'UNION with another table',
    `SELECT srcaddr ${T} UNION SELECT name FROM users`,
    'table "users" is not allowed: only vpc_flow_logs and the query\'s own CTEs',
  ],
  [
    'subquery reading another table',
    `SELECT srcaddr ${T} AND srcaddr IN (SELECT ip FROM users)`,
    'table "users" is not allowed: only vpc_flow_logs and the query\'s own CTEs',
  ],
  [
    'scalar subquery reading a system table',
    `SELECT (SELECT count(*) FROM information_schema.columns) ${T}`,
    'system table "information_schema.columns" is not allowed',
  ],
  ['table function reading a file', "SELECT * FROM read_csv('/etc/passwd')", 'cannot parse the query (line 1, column 23)'],
  ['file-reading function in an expression', `SELECT read_text('/etc/passwd') ${T}`, 'function read_text is not allowed'],
  ['schema-qualified function', `SELECT pg_catalog.lower(srcaddr) ${T}`, 'qualified function names are not allowed'],
  ['metadata function', `SELECT current_setting('home_directory') ${T}`, 'function current_setting is not allowed'],
  ['network function', `SELECT http_get('http://x') ${T}`, 'function http_get is not allowed'],
  ['SELECT INTO', `SELECT srcaddr INTO copy ${T}`, 'cannot parse the query (line 1, column 20)'],
  ['dollar-quoted string', `SELECT $$x$$ ${T}`, 'character "$" is not allowed outside a string'],
  ['backtick identifier', `SELECT \`srcaddr\` ${T}`, 'backtick quoting is not allowed (use double quotes)'],
];

describe('checkSql', () => {
  it('has a table of at least 60 cases', () => {
    expect(accepted.length + refused.length + bypasses.length).toBeGreaterThanOrEqual(60);
  });

  it.each(accepted)('accepts: %s', (_name, sql, printed, limit) => {
    expect(checkSql(sql, policy)).toEqual({ ok: true, sql: printed ?? `${sql.trim()} LIMIT 1000`, limit });
  });

  it.each(refused)('refuses: %s', (_name, sql, reason) => {
    expect(checkSql(sql, policy)).toEqual({ ok: false, reason });
  });

  it.each(bypasses)('refuses the bypass: %s', (_name, sql, reason) => {
    expect(checkSql(sql, policy)).toEqual({ ok: false, reason });
  });

  it('adds the outer LIMIT when only a subquery has one', () => {
    const sql = "SELECT * FROM (SELECT srcaddr FROM vpc_flow_logs WHERE day = '2026/11/21' LIMIT 5) AS s";
    expect(checkSql(sql, policy)).toEqual({ ok: true, sql: `${sql} LIMIT 1000`, limit: 1000 });
  });

  it('bounds day from below within the retention (earliestDay) when the environment declares one', () => {
    const kept = { ...policy, earliestDay: '2026/10/24' };
    expect(checkSql("SELECT srcaddr FROM vpc_flow_logs WHERE day BETWEEN '2026/10/24' AND '2026/11/23'", kept).ok).toBe(true);
    expect(checkSql("SELECT srcaddr FROM vpc_flow_logs WHERE day >= '2026/10/23'", kept)).toEqual({
      ok: false,
      reason:
        "the lower bound '2026/10/23' of day lies before 2026/10/24, the first day the environment retains (window.retainDays): bound day from 2026/10/24 on",
    });
    // An upper bound before the retention reads nothing more: only lower bounds are held to it.
    expect(checkSql("SELECT srcaddr FROM vpc_flow_logs WHERE day = '2026/11/01' AND day <= '2026/01/01'", kept).ok).toBe(true);
  });

  it('walks 20,000 AND terms without a stack overflow', () => {
    const terms = Array.from({ length: 20_000 }, (_, i) => `bytes <> ${i}`).join(' AND ');
    const sql = `SELECT srcaddr FROM vpc_flow_logs WHERE day = '2026/01/02' AND ${terms}`;
    expect(checkSql(sql, policy)).toEqual({ ok: true, sql: `${sql} LIMIT 1000`, limit: 1000 });
  });

  it('uses the configured table, maximum and case-insensitive names', () => {
    const custom = { ...policy, table: 'Flow_Logs_Prod', maxLimit: 50 };
    expect(checkSql("SELECT srcaddr FROM flow_logs_prod WHERE day = '2026/11/21' LIMIT 80", custom)).toEqual({
      ok: true,
      sql: "SELECT srcaddr FROM flow_logs_prod WHERE day = '2026/11/21' LIMIT 50",
      limit: 50,
    });
    expect(checkSql("SELECT srcaddr FROM vpc_flow_logs WHERE day = '2026/11/21'", custom)).toEqual({
      ok: false,
      reason: 'table "vpc_flow_logs" is not allowed: only Flow_Logs_Prod and the query\'s own CTEs',
    });
  });
});

describe('accepted SQL runs on DuckDB over a table of the schema', () => {
  let duck: DuckDbHandle;
  let connection: DuckDBConnection;

  beforeAll(async () => {
    duck = await openDuckDb();
    ({ connection } = duck);
    const columns = FLOW_LOG_COLUMNS.map((c) => `"${c.name}" ${c.type}`).join(', ');
    await connection.run(`CREATE TABLE vpc_flow_logs (${columns})`);
    const row = (src: string, dst: string, port: number, bytes: number, action: string): string =>
      `(2, '123456789012', 'eni-1', '${src}', '${dst}', 40000, ${port}, 6, 10, ${bytes}, 1767312000, 1767312060, '${action}', 'OK', 'vpc-1', 'subnet-1', 'i-1', 2, 'IPv4', '${src}', '${dst}', NULL, 'S3', 'egress', 1, '2026/01/02')`;
    await connection.run(
      `INSERT INTO vpc_flow_logs VALUES ${[
        row('10.0.0.1', '10.0.0.2', 443, 100, 'ACCEPT'),
        row('10.0.0.2', '10.0.0.1', 80, 200, 'ACCEPT'),
        row('10.0.0.3', '52.0.0.1', 443, 300, 'REJECT'),
      ].join(', ')}`,
    );
  });

  afterAll(() => {
    duck?.close();
  });

  it.each(accepted.filter((c) => c[4] !== true))('runs: %s', async (_name, sql) => {
    const result = checkSql(sql, policy);
    if (!result.ok) throw new Error(result.reason);
    const rows = (await connection.runAndReadAll(result.sql)).getRowObjects();
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.length).toBeLessThanOrEqual(result.limit);
  });
});
