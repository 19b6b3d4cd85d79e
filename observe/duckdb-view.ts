/**
 * The embedded engine's view: DuckDB reads the flow-log files (text, gzip, Parquet; local paths, globs, s3:// URLs)
 * as a `flow_logs` view with the Athena table's columns, and runs the very query Athena gets (observe/sql.ts). Here:
 * which files (resolveFiles), and the view's SQL with the expressions that mark a malformed line.
 */
import { readdir, stat } from 'node:fs/promises';
import type { Dirent } from 'node:fs';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { InputError, UsageError } from '../core/errors.js';
import { compareText } from '../core/text.js';
import { formatPath, locate, type YamlSource } from '../core/yaml-source.js';
import { columnName, fieldType, TABLE_FIELDS } from './fields.js';
import { fileKind, layoutFromFirstLine, readFirstLine, requireFields, type FlowLogFile, type TextLayout } from './sources.js';

/** Quotes a string as a SQL literal (file paths only; values from users go in as parameters). */
export function sqlString(s: string): string {
  if (/[\0\n\r]/.test(s)) throw new InputError(`file path contains a control character: ${JSON.stringify(s)}`);
  return `'${s.replace(/'/g, "''")}'`;
}

/** Characters DuckDB's glob gives a meaning. */
const GLOB_CHAR = /[*?[\]]/;

/**
 * Expands the environment's file patterns (relative to `baseDir`) into files, sorted. A pattern that matches
 * nothing is an InputError at that pattern in environment.yaml: its line and column when `environment` (the
 * file the patterns were read from) is given.
 */
export async function resolveFiles(
  connection: DuckDBConnection,
  patterns: readonly string[],
  baseDir: string,
  root: string,
  environment?: YamlSource,
): Promise<FlowLogFile[]> {
  const out = new Map<string, FlowLogFile>();
  for (const [i, pattern] of patterns.entries()) {
    const remote = /^s3:\/\//i.test(pattern);
    if (remote) await requireS3(connection, pattern);
    const abs = remote ? pattern : resolve(baseDir, pattern);
    const reader = await connection.runAndReadAll(`SELECT file FROM glob(${sqlString(abs)}) ORDER BY file`);
    const found = reader.getRows().map((r) => String(r[0]));
    const where = () => {
      const path = ['flowLogs', 'files', i];
      return {
        file: environment?.file ?? displayPath(resolve(baseDir, 'environment.yaml'), root),
        ...(environment ? locate(environment, path) : {}),
        path: formatPath(path),
      };
    };
    // DuckDB's readers expand a file name as a pattern again: a name holding *, ? or [ would read other files, or
    // none, and a folder above the files holding one would match nothing.
    if (!remote && GLOB_CHAR.test(baseDir)) {
      throw new InputError(
        `the folder ${JSON.stringify(baseDir)} holds one of * ? [ ], which DuckDB reads as a pattern: move the repository to a folder without them`,
        where(),
      );
    }
    const odd = found.find((f) => GLOB_CHAR.test(remote ? f.slice(f.indexOf('/', 5)) : relative(baseDir, f)));
    if (odd)
      throw new InputError(
        `the file name ${JSON.stringify(odd)} holds one of * ? [ ], which DuckDB would read as a pattern (other files, or none): rename it`,
        where(),
      );
    // DuckDB's glob passes over a folder it cannot read without a word: that is records not read, not no records.
    if (!remote) await checkReadable(abs, root, where);
    if (found.length === 0) {
      throw new InputError(`no flow-log files match ${JSON.stringify(pattern)}`, where());
    }
    for (const path of found) {
      const kind = fileKind(path);
      if (!kind) continue;
      out.set(path, { path, kind, display: remote ? path : displayPath(path, root) });
    }
  }
  return [...out.values()].sort((a, b) => compareText(a.path, b.path));
}

/**
 * Fails naming the first folder under a local pattern that cannot be read (no permission, a symlink loop, an I/O
 * error), or an entry that cannot be looked at where the pattern could match it (a folder it may descend into, a
 * name with a flow-log extension). Only the folders the pattern reaches are walked: all of them below a `**`.
 */
async function checkReadable(pattern: string, root: string, where: () => { file: string; path: string }): Promise<void> {
  const parts = pattern.split(sep);
  const first = parts.findIndex((p) => GLOB_CHAR.test(p));
  if (first < 0) return;
  const rest = parts.slice(first);
  const depth = rest.includes('**') ? Infinity : rest.length - 1;
  const fail = (path: string, err: unknown) => {
    const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    return new InputError(
      `cannot read ${displayPath(path, root)} under ${JSON.stringify(displayPath(pattern, root))} (${code}): its flow logs would go unread`,
      where(),
    );
  };
  const walk = async (dir: string, left: number): Promise<void> => {
    let entries: Dirent[];
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (err) {
      throw fail(dir, err);
    }
    for (const e of entries.sort((a, b) => compareText(a.name, b.name))) {
      const path = join(dir, e.name);
      let isDir = e.isDirectory();
      if (e.isSymbolicLink()) {
        try {
          isDir = (await stat(path)).isDirectory();
        } catch (err) {
          if (left > 0 || fileKind(e.name)) throw fail(path, err);
          continue;
        }
      }
      if (isDir && left > 0) await walk(path, left - 1);
    }
  };
  const base = parts.slice(0, first).join(sep) || sep;
  try {
    if (!(await stat(base)).isDirectory()) return;
  } catch {
    return; // no such folder: the pattern matches nothing, which is reported as such
  }
  await walk(base, depth);
}

/** DuckDB reads s3:// only through its httpfs extension; say plainly what to do when it is not installed. */
async function requireS3(connection: DuckDBConnection, pattern: string): Promise<void> {
  try {
    await connection.run('LOAD httpfs');
  } catch {
    throw new UsageError(
      `${pattern}: reading s3:// with the duckdb engine needs DuckDB's httpfs extension, which is not installed here. ` +
        'Install it once where the network allows (duckdb -c "INSTALL httpfs"), or copy the files locally ' +
        '(aws s3 sync) and point flowLogs.files at them, or set flowLogs.engine: athena.',
    );
  }
}

export function displayPath(path: string, root: string): string {
  const rel = relative(root, path);
  return rel.startsWith('..') || isAbsolute(rel) ? path : rel.split(sep).join('/');
}

/**
 * Creates the `flow_logs` view over the files: one read per header layout, unioned by column name.
 *
 * Every field is read as text and cast here, not by the CSV reader: `-` (absent) must become NULL in a numeric
 * column, and given `-` as its null string the reader quietly accepts a line with an extra trailing `-` field.
 * With no null string, the reader itself refuses lines with a field too many or too few (they land in
 * reject_errors with their line numbers); what is left to find here is a field the reader kept that is no record's (malformedChecks).
 * Such a line keeps its place in the stats as log_status `MALFORMED:<file>`, timed at the window start so it is
 * counted, and malformedLines() finds its line number.
 */
export async function createFlowLogsView(
  connection: DuckDBConnection,
  files: readonly FlowLogFile[],
  countFrom = 0,
  opts: ViewOptions = {},
): Promise<TextGroup[]> {
  const groups = new Map<string, TextGroup>();
  const parquet: FlowLogFile[] = [];
  for (const f of files) {
    if (f.kind === 'parquet') {
      parquet.push(f);
      continue;
    }
    const layout = layoutFromFirstLine(await readFirstLine(f), f);
    if (opts.requireFields) requireFields(layout.fields, f);
    const gzip = f.kind === 'gzip';
    const key = `${gzip}:${layout.header}:${layout.fields.join(' ')}`;
    // A gzip stream cannot be split: DuckDB inflates each file on one thread, and many files in one scan still use
    // every core. Plain text may go through the parallel scanner, unless the caller falls back (ViewOptions).
    const g = groups.get(key) ?? { layout, parallel: !gzip && opts.parallel !== false, files: [] };
    g.files.push(f);
    groups.set(key, g);
  }
  const selects: string[] = [];
  for (const { layout, parallel, files: fs } of groups.values()) {
    const list = `[${fs.map((f) => sqlString(f.path)).join(', ')}]`;
    selects.push(textProjection(`read_csv(${list}, ${textReadOptions(layout, parallel)}, filename = true)`, layout.fields, countFrom));
  }
  if (parquet.length > 0) {
    const list = `[${parquet.map((f) => sqlString(f.path)).join(', ')}]`;
    const fields = async (paths: string) =>
      (await connection.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet(${paths}, union_by_name = true)`))
        .getRows()
        .map((r) => String(r[0]).replace(/_/g, '-'));
    // Each file on its own as well: one that lacks a column would otherwise pass on the columns of the others.
    if (opts.requireFields) for (const f of parquet) requireFields(await fields(sqlString(f.path)), f);
    const described = await connection.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet(${list}, union_by_name = true)`);
    selects.push(
      parquetProjection(
        `read_parquet(${list}, union_by_name = true, filename = true)`,
        new Map(described.getRows().map((r) => [String(r[0]).replace(/_/g, '-'), String(r[1])])),
      ),
    );
  }
  if (selects.length === 0) throw new InputError('no flow-log files (.log, .log.gz, .parquet) to read');
  await connection.run(`CREATE OR REPLACE TEMP VIEW flow_logs AS\n${selects.join('\nUNION ALL BY NAME\n')}`);
  return [...groups.values()];
}

/** Text files of one header layout and compression: the view reads each group with one read_csv. */
export interface TextGroup {
  layout: TextLayout;
  /** Read with DuckDB's parallel CSV scanner. */
  parallel: boolean;
  /** In the order read_csv gets them. */
  files: FlowLogFile[];
}

interface ViewOptions {
  /** false: never DuckDB's parallel CSV scanner (the fallback when a read fails with no file to blame). */
  parallel?: boolean;
  /**
   * true: every file must have the fields observe and report need (REQUIRED_FIELDS), else an InputError names it.
   * readFlowLogs sets it; `ask` reads the same view without it, for any field a file has.
   */
  requireFields?: boolean;
}

/** read_csv options for a text layout: all text, no null string, lines with the wrong field count refused. */
export function textReadOptions(layout: TextLayout, parallel: boolean): string {
  const columns = layout.fields.map((f) => `${sqlString(columnName(f))}: 'VARCHAR'`).join(', ');
  return (
    `delim = ' ', quote = '', escape = '', header = ${layout.header}, auto_detect = false, columns = {${columns}}, ` +
    `nullstr = '', null_padding = false, strict_mode = true, ignore_errors = true, store_rejects = true, compression = 'auto', ` +
    `parallel = ${parallel}`
  );
}

/** How late AWS may log a record's start (flow-log-records.html: "up to 60 seconds after the packet was transmitted"). */
export const START_TOLERANCE_SECONDS = 60;

/** Epoch seconds stay below this until the year 2286; a millisecond timestamp of any year since 1970 is above it. */
const EPOCH_SECONDS_BELOW = 10_000_000_000;

/**
 * Why a row the reader kept is still not a well-formed record, as pairs of an SQL condition and an SQL text saying
 * why, in the order they are checked: a number field that is not a whole number written in digits (`1.5`, `-3`,
 * `1e3`: DuckDB's cast would round or keep them), a protocol outside 0-255, a port above 65535 or a tcp/udp port
 * below 1 (or absent), a time that is not in epoch seconds (milliseconds), `start` more than 60 s after `end`. A record is input,
 * not truth: each of them would become a rule wider than it names, or a row that validate refuses. `raw(f)` is the
 * field's text, `number(f)` its value as a number (NULL when it is not one).
 */
function malformedChecks(fields: readonly string[], raw: (f: string) => string, number: (f: string) => string): [string, string][] {
  const present = new Set(fields);
  const checks: [string, string][] = fields
    .filter((f) => fieldType(f) !== 'VARCHAR')
    .map((f) => [
      `(${raw(f)} <> '-' AND (${number(f)} IS NULL OR NOT regexp_full_match(${raw(f)}, '[0-9]+')))`,
      `'${f} ' || ${raw(f)} || ' is not a whole number'`,
    ]);
  if (present.has('protocol')) checks.push([`${number('protocol')} > 255`, `'protocol ' || ${raw('protocol')} || ' is outside 0-255'`]);
  const tcpUdp = present.has('protocol') ? `${number('protocol')} IN (6, 17)` : 'false';
  for (const f of ['srcport', 'dstport'].filter((x) => present.has(x))) {
    checks.push([`${number(f)} > 65535`, `'${f} ' || ${raw(f)} || ' is above 65535'`]);
    checks.push([`(${tcpUdp} AND coalesce(${number(f)}, 0) < 1)`, `'${f} ' || ${raw(f)} || ' of a tcp or udp record is outside 1-65535'`]);
  }
  for (const f of ['start', 'end'].filter((x) => present.has(x))) {
    checks.push([`${number(f)} >= ${EPOCH_SECONDS_BELOW}`, `'${f} ' || ${raw(f)} || ' is not a time in epoch seconds (milliseconds?)'`]);
  }
  if (present.has('start') && present.has('end')) {
    // AWS: start "might be up to 60 seconds after the packet was transmitted", so a start a little after end is a
    // delivered record; more than that is no time order at all.
    checks.push([
      `${number('start')} > ${number('end')} + ${START_TOLERANCE_SECONDS}`,
      `'start ' || ${raw('start')} || ' is more than ${START_TOLERANCE_SECONDS} s after end ' || ${raw('end')}`,
    ]);
  }
  return checks;
}

/** SQL that is true when a row the reader kept is still not a well-formed record (malformedChecks). */
function malformedExpr(fields: readonly string[], number = (f: string) => `TRY_CAST("${columnName(f)}" AS ${fieldType(f)})`): string {
  const checks = malformedChecks(fields, (f) => `"${columnName(f)}"`, number);
  return checks.length === 0 ? 'false' : `coalesce(${checks.map(([c]) => c).join(' OR ')}, false)`;
}

/** SQL text saying why a row is malformed (the first check it fails), NULL for a well-formed one. */
export function malformedReason(fields: readonly string[]): string {
  const number = (f: string) => `TRY_CAST("${columnName(f)}" AS ${fieldType(f)})`;
  const checks = malformedChecks(fields, (f) => `"${columnName(f)}"`, number);
  return checks.length === 0 ? 'NULL' : `CASE ${checks.map(([c, why]) => `WHEN coalesce(${c}, false) THEN ${why}`).join(' ')} END`;
}

/**
 * The Athena table's columns from a text source; `-` is NULL; malformed rows are marked, not dropped.
 *
 * Three levels, so that each piece of per-row work is done once: the numeric fields are cast once (level 1), the
 * malformed check reads those casts (level 2), the columns pick from both (level 3). The `random() >= 0` term is
 * always true; being volatile, it keeps DuckDB from pushing the query's filters on `start` and `day` below level
 * 2, where each of them would evaluate the malformed check again.
 */
function textProjection(source: string, fields: readonly string[], countFrom: number): string {
  const present = new Set(fields);
  const number = (f: string) => `"${columnName(f)}__n"`;
  const casts = fields
    .filter((f) => fieldType(f) !== 'VARCHAR')
    .map((f) => `TRY_CAST(NULLIF("${columnName(f)}", '-') AS ${fieldType(f)}) AS ${number(f)}`);
  const level1 = `SELECT *${casts.map((c) => `, ${c}`).join('')} FROM ${source}`;
  const level2 = `SELECT *, (${malformedExpr(fields, number)} AND random() >= 0) AS __bad FROM (${level1})`;
  const start = present.has('start')
    ? `CASE WHEN __bad THEN CAST(${countFrom} AS BIGINT) ELSE ${number('start')} END`
    : 'CAST(NULL AS BIGINT)';
  const cols = TABLE_FIELDS.map((f) => {
    const col = columnName(f);
    const type = fieldType(f);
    if (!present.has(f)) return `CAST(NULL AS ${type}) AS "${col}"`;
    if (f === 'log-status') return `CASE WHEN __bad THEN 'MALFORMED:' || filename ELSE NULLIF("${col}", '-') END AS "${col}"`;
    if (f === 'start') return `${start} AS "${col}"`;
    return `${type === 'VARCHAR' ? `NULLIF("${col}", '-')` : number(f)} AS "${col}"`;
  });
  return `SELECT ${cols.join(', ')}, strftime(epoch_ms(${start} * 1000), '%Y/%m/%d') AS "day", filename FROM (${level2})`;
}

/** Parquet column types read as they are: integers of any width (out of range is NULL, as from text). */
const PARQUET_INTEGER = /^U?(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT)$/;

/**
 * The Athena table's columns from Parquet (names with underscores, `present`: field -> the files' column type); absent
 * fields are NULL. Parquet is read with its own types: an integer column is cast to the table's integer type, a
 * string column to a string, and only a column of another type (a writer's strings for numbers, `-` for absent)
 * goes through text.
 */
function parquetProjection(source: string, present: ReadonlyMap<string, string>): string {
  const cols = TABLE_FIELDS.map((f) => {
    const col = columnName(f);
    const type = fieldType(f);
    const has = present.get(f);
    if (has === undefined) return `CAST(NULL AS ${type}) AS "${col}"`;
    if (type !== 'VARCHAR' && PARQUET_INTEGER.test(has)) return `TRY_CAST("${col}" AS ${type}) AS "${col}"`;
    if (type === 'VARCHAR' && has === 'VARCHAR') return `NULLIF("${col}", '-') AS "${col}"`;
    return `TRY_CAST(NULLIF(CAST("${col}" AS VARCHAR), '-') AS ${type}) AS "${col}"`;
  });
  const start = present.get('start');
  const day =
    start === undefined
      ? 'CAST(NULL AS VARCHAR)'
      : `strftime(epoch_ms(${PARQUET_INTEGER.test(start) ? 'TRY_CAST("start" AS BIGINT)' : `TRY_CAST(NULLIF(CAST("start" AS VARCHAR), '-') AS BIGINT)`} * 1000), '%Y/%m/%d')`;
  return `SELECT ${cols.join(', ')}, ${day} AS "day", filename FROM ${source}`;
}
