/**
 * Route 53 Resolver query logs (JSON lines, `.log` / `.log.gz`, as AWS delivers them) read by DuckDB's
 * `read_json` with an explicit schema: fields AWS adds in a new minor version are ignored, a new major version is
 * refused. Gives the window's queries aggregated per source, name and answer; attribution to workloads is
 * observe/dns-names.ts.
 */
import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, relative, resolve, sep } from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { DuckDBConnection } from '@duckdb/node-api';
import { LIST, VARCHAR, listValue } from '@duckdb/node-api';
import { InputError } from '../core/errors.js';
import { numberOrNull, stringOrNull } from '../core/sql-values.js';
import { compareText, firstLine } from '../core/text.js';
import { formatPath, locate, type YamlSource } from '../core/yaml-source.js';
import type { EnvironmentConfig } from '../model/types.js';
import { openDuckDb } from './duckdb-session.js';
import { filesForRange } from './prune.js';

/** The fields leastpath reads, typed; any other field of a line is ignored (a new minor version adds fields). */
const DNS_COLUMNS =
  "{version: 'VARCHAR', account_id: 'VARCHAR', region: 'VARCHAR', vpc_id: 'VARCHAR', query_timestamp: 'VARCHAR', " +
  "query_name: 'VARCHAR', query_type: 'VARCHAR', query_class: 'VARCHAR', rcode: 'VARCHAR', " +
  'answers: \'STRUCT("Rdata" VARCHAR, "Type" VARCHAR, "Class" VARCHAR)[]\', srcaddr: \'VARCHAR\', srcport: \'VARCHAR\', ' +
  "transport: 'VARCHAR', srcids: 'STRUCT(instance VARCHAR, resolver_endpoint VARCHAR)', firewall_rule_action: 'VARCHAR'}";

/** The query-log view's columns, for ask's prompt and validator (one row per query). */
export const DNS_TABLE_COLUMNS: readonly (readonly [string, string])[] = [
  ['version', 'VARCHAR'],
  ['account_id', 'VARCHAR'],
  ['region', 'VARCHAR'],
  ['vpc_id', 'VARCHAR'],
  ['query_timestamp', 'VARCHAR'],
  ['query_name', 'VARCHAR'],
  ['query_type', 'VARCHAR'],
  ['rcode', 'VARCHAR'],
  ['srcaddr', 'VARCHAR'],
  ['srcport', 'VARCHAR'],
  ['transport', 'VARCHAR'],
  ['firewall_rule_action', 'VARCHAR'],
];

/** Queries of one source for one name with one answer code and firewall action, in the window. */
export interface DnsQueryRow {
  srcaddr: string;
  instance: string | null;
  /** Lowercase, no trailing dot. */
  name: string;
  rcode: string;
  /** firewall_rule_action as logged (ALERT, BLOCK, ALLOW) or '' when no firewall rule matched. */
  action: string;
  queries: number;
  firstTs: number;
  lastTs: number;
}

/** One address an A/AAAA answer gave a source for a name (the name asked for, CNAME chains followed). */
export interface DnsResolutionRow {
  srcaddr: string;
  instance: string | null;
  name: string;
  address: string;
  firstTs: number;
  lastTs: number;
}

/** Queries per source, name and hour: the report's NXDOMAIN bursts. */
export interface DnsHourRow {
  srcaddr: string;
  instance: string | null;
  name: string;
  rcode: string;
  hour: number;
  queries: number;
}

export interface DnsRead {
  files: number;
  /** Lines read in all files (every VPC, every time). */
  records: number;
  queries: DnsQueryRow[];
  resolutions: DnsResolutionRow[];
  hours: DnsHourRow[];
}

export interface DnsReadOptions {
  root: string;
  environmentFile: string;
  environmentSource?: YamlSource;
  config: EnvironmentConfig;
  /** Epoch seconds, [from, to). */
  from: number;
  to: number;
}

/** Reads the environment's query logs for the window; undefined when it has no `dnsLogs`. */
export async function readDnsLogs(opts: DnsReadOptions): Promise<DnsRead | undefined> {
  const dns = opts.config.dnsLogs;
  if (!dns) return undefined;
  const duck = await openDuckDb({ memoryLimit: opts.config.flowLogs.memoryLimit });
  try {
    const files = await filesForRange(
      await resolveDnsFiles(duck.connection, dns.files, dirname(opts.environmentFile), opts.root, opts.environmentSource),
      opts,
    );
    return await readDnsFiles(duck.connection, files, opts);
  } finally {
    duck.close();
  }
}

export interface DnsFile {
  path: string;
  display: string;
}

/** Expands `dnsLogs.files` (relative to environment.yaml); a pattern matching no .log / .log.gz file is an error at it. */
export async function resolveDnsFiles(
  connection: DuckDBConnection,
  patterns: readonly string[],
  baseDir: string,
  root: string,
  source?: YamlSource,
): Promise<DnsFile[]> {
  const out = new Map<string, DnsFile>();
  for (const [i, pattern] of patterns.entries()) {
    const abs = resolve(baseDir, pattern);
    const stmt = await connection.prepare('SELECT file FROM glob(?) ORDER BY file');
    stmt.bindVarchar(1, abs);
    const found = (await stmt.runAndReadAll())
      .getRows()
      .map((r) => String(r[0]))
      .filter((f) => /\.log(\.gz)?$/.test(f));
    if (found.length === 0) {
      const path = ['dnsLogs', 'files', i];
      throw new InputError(`no query-log files (.log, .log.gz) match ${JSON.stringify(pattern)}`, {
        file: source?.file ?? displayPath(resolve(baseDir, 'environment.yaml'), root),
        ...(source ? locate(source, path) : {}),
        path: formatPath(path),
      });
    }
    for (const path of found) out.set(path, { path, display: displayPath(path, root) });
  }
  return [...out.values()].sort((a, b) => compareText(a.path, b.path));
}

function displayPath(path: string, root: string): string {
  const rel = relative(root, path);
  return rel.startsWith('..') || isAbsolute(rel) ? path : rel.split(sep).join('/');
}

/** The typed rows of every query, with the name normalised and the time as epoch seconds. */
const QUERIES_CTE = `q AS (
  SELECT filename AS file, version, vpc_id,
    CAST(floor(epoch(try_cast(replace(replace(query_timestamp, 'T', ' '), 'Z', '') AS TIMESTAMP))) AS BIGINT) AS ts,
    lower(rtrim(query_name, '.')) AS name, upper(coalesce(rcode, '')) AS rcode, srcaddr, srcids.instance AS instance,
    upper(coalesce(firewall_rule_action, '')) AS action, answers
  FROM read_json(?, format = 'newline_delimited', columns = ${DNS_COLUMNS}, filename = true)
)`;

/**
 * The query-log table `ask --logs dns` reads: the columns of DNS_TABLE_COLUMNS and the partition column `day`
 * (YYYY/MM/DD of query_timestamp), over the given files as quoted SQL strings (a view cannot take parameters).
 */
export function dnsViewSql(quotedFiles: readonly string[]): string {
  const columns = DNS_TABLE_COLUMNS.map(([c]) => `"${c}"`).join(', ');
  return (
    `SELECT ${columns}, strftime(try_cast(replace(replace(query_timestamp, 'T', ' '), 'Z', '') AS TIMESTAMP), '%Y/%m/%d') AS day ` +
    `FROM read_json([${quotedFiles.join(', ')}], format = 'newline_delimited', columns = ${DNS_COLUMNS})`
  );
}

/** A line leastpath cannot use: why, or undefined when it is a query. */
function lineProblem(v: unknown): string | undefined {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return 'not a JSON object';
  const o = v as Record<string, unknown>;
  if (typeof o.version === 'string' && o.version.split('.')[0] !== '1')
    return `query-log version ${o.version} is not 1.x (a new major version changes the format)`;
  if (typeof o.query_timestamp !== 'string' || Number.isNaN(Date.parse(o.query_timestamp)))
    return 'query_timestamp is missing or not an ISO 8601 time';
  if (typeof o.query_name !== 'string' || o.query_name.replace(/\.$/, '') === '') return 'query_name is missing';
  if (typeof o.srcaddr !== 'string' || o.srcaddr === '') return 'srcaddr is missing';
  if (o.answers !== undefined && o.answers !== null && !Array.isArray(o.answers)) return 'answers is not a list';
  return undefined;
}

/** The first line of a file that is not a usable query (file:line: why), for a read DuckDB refused or a check. */
async function firstBadLine(file: DnsFile): Promise<InputError | undefined> {
  const raw = await readFile(file.path);
  const text = (file.path.endsWith('.gz') ? gunzipSync(raw) : raw).toString('utf8');
  const lines = text.split('\n');
  for (const [i, line] of lines.entries()) {
    if (line.trim() === '') continue;
    let problem: string | undefined;
    try {
      problem = lineProblem(JSON.parse(line));
    } catch (err) {
      problem = `malformed JSON (${firstLine((err as Error).message)})`;
    }
    if (problem) return new InputError(`${file.display}:${i + 1}: ${problem}`, { file: file.display, line: i + 1 });
  }
  return undefined;
}

async function run(
  connection: DuckDBConnection,
  sql: string,
  files: readonly DnsFile[],
  params: readonly number[] | readonly (string | number)[],
): Promise<Record<string, unknown>[]> {
  const stmt = await connection.prepare(sql);
  stmt.bindList(1, listValue(files.map((f) => f.path)), LIST(VARCHAR));
  params.forEach((v, i) => {
    if (typeof v === 'number') stmt.bindBigInt(i + 2, BigInt(v));
    else stmt.bindVarchar(i + 2, v);
  });
  return (await stmt.runAndReadAll()).getRowObjects() as Record<string, unknown>[];
}

async function readDnsFiles(connection: DuckDBConnection, files: readonly DnsFile[], opts: DnsReadOptions): Promise<DnsRead> {
  // One scan of the files into a table; the checks and the three aggregations read the table.
  try {
    await run(connection, `CREATE TEMP TABLE dns_q AS WITH ${QUERIES_CTE} SELECT * FROM q`, files, []);
  } catch (err) {
    // DuckDB names the file but counts lines its own way: find the line ourselves.
    for (const f of files) {
      const bad = await firstBadLine(f);
      if (bad) throw bad;
    }
    throw new InputError(`query logs: ${firstLine((err as Error).message)}`);
  }
  const read = async (sql: string, params: readonly (string | number)[]) => {
    const stmt = await connection.prepare(sql);
    params.forEach((v, i) => (typeof v === 'number' ? stmt.bindBigInt(i + 1, BigInt(v)) : stmt.bindVarchar(i + 1, v)));
    return (await stmt.runAndReadAll()).getRowObjects() as Record<string, unknown>[];
  };
  const checks = await read(
    `SELECT file, count(*) AS n,
  count(*) FILTER (WHERE ts IS NULL OR name IS NULL OR name = '' OR srcaddr IS NULL OR srcaddr = ''
    OR (version IS NOT NULL AND split_part(version, '.', 1) <> '1')) AS bad
FROM dns_q GROUP BY file ORDER BY file`,
    [],
  );
  for (const c of checks) {
    if (Number(c.bad) === 0) continue;
    const f = files.find((x) => x.path === String(c.file));
    const bad = f && (await firstBadLine(f));
    if (bad) throw bad;
  }
  const window = `vpc_id = ? AND ts >= ? AND ts < ?`;
  const params = [opts.config.vpc, opts.from, opts.to];
  const queries = await read(
    `SELECT srcaddr, instance, name, rcode, action, count(*) AS queries, min(ts) AS first_ts, max(ts) AS last_ts
FROM dns_q WHERE ${window} GROUP BY ALL ORDER BY ALL`,
    params,
  );
  const resolutions = await read(
    `SELECT srcaddr, instance, name, a."Rdata" AS address, min(ts) AS first_ts, max(ts) AS last_ts
FROM (SELECT srcaddr, instance, name, ts, unnest(answers) AS a FROM dns_q WHERE ${window} AND rcode = 'NOERROR')
WHERE upper(a."Type") IN ('A', 'AAAA') AND a."Rdata" IS NOT NULL
GROUP BY ALL ORDER BY ALL`,
    params,
  );
  const hours = await read(
    `SELECT srcaddr, instance, name, rcode, ts // 3600 AS hour, count(*) AS queries
FROM dns_q WHERE ${window} GROUP BY ALL ORDER BY ALL`,
    params,
  );
  const str = (v: unknown) => stringOrNull(v) ?? '';
  const num = (v: unknown) => numberOrNull(v) ?? 0;
  return {
    files: files.length,
    records: checks.reduce((n, c) => n + num(c.n), 0),
    queries: queries.map((r) => ({
      srcaddr: str(r.srcaddr),
      instance: stringOrNull(r.instance),
      name: str(r.name),
      rcode: str(r.rcode),
      action: str(r.action),
      queries: num(r.queries),
      firstTs: num(r.first_ts),
      lastTs: num(r.last_ts),
    })),
    resolutions: resolutions.map((r) => ({
      srcaddr: str(r.srcaddr),
      instance: stringOrNull(r.instance),
      name: str(r.name),
      address: str(r.address),
      firstTs: num(r.first_ts),
      lastTs: num(r.last_ts),
    })),
    hours: hours.map((r) => ({
      srcaddr: str(r.srcaddr),
      instance: stringOrNull(r.instance),
      name: str(r.name),
      rcode: str(r.rcode),
      hour: num(r.hour),
      queries: num(r.queries),
    })),
  };
}
