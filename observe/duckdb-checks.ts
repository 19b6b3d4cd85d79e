/**
 * The checked read of the `flow_logs` view (readFlowLogs): every scan's row count against Node's line count, the
 * fallback without DuckDB's parallel CSV scanner, a failing file named; then the malformed lines with their line
 * numbers, and files that are mostly not flow-log records (garbage).
 */
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { InputError } from '../core/errors.js';
import { formatFinding, type Finding } from '../core/findings.js';
import { compareText, firstLine } from '../core/text.js';
import { explainOutOfMemory, explainTempArea, makeTempFolder, QueryTimeout } from './duckdb-session.js';
import { createFlowLogsView, displayPath, malformedReason, sqlString, textReadOptions, type TextGroup } from './duckdb-view.js';
import { countFileLines, layoutFromFirstLine, lineEndingProblem, readFirstLine, type FlowLogFile } from './sources.js';

export interface MalformedLine {
  file: string;
  line: number;
  message: string;
}

/** A file where more than this share of lines is malformed is rejected as a whole. */
const GARBAGE_SHARE = 0.5;

/** Header fields leastpath does not know, read past: their names, the first file that has them, how many files do. */
export interface UnknownFields {
  fields: string[];
  file: string;
  files: number;
}

/** The header fields of the groups' files that leastpath does not know (undefined when every field is known). */
function unknownFieldsOf(groups: readonly TextGroup[]): UnknownFields | undefined {
  const names = new Set<string>();
  const files: string[] = [];
  for (const g of groups) {
    if (!g.layout.unknown?.length) continue;
    for (const f of g.layout.unknown) names.add(f);
    files.push(...g.files.map((f) => f.display));
  }
  if (files.length === 0) return undefined;
  return { fields: [...names].sort(compareText), file: files.sort(compareText)[0]!, files: files.length };
}

/** The one warning observe and report give for header fields they read past, as a finding. */
export function unknownFieldsFinding(u: UnknownFields): Finding {
  const more = u.files > 1 ? ` (and ${u.files - 1} more file${u.files > 2 ? 's' : ''})` : '';
  return {
    rule: 'unknown-fields',
    severity: 'warning',
    file: u.file,
    line: 1,
    col: 1,
    path: '<header>',
    message: `unknown flow-log field${u.fields.length > 1 ? 's' : ''} read past, not used: ${u.fields.join(', ')}${more}`,
  };
}

/** The same warning as a line of stderr. */
export function unknownFieldsWarning(u: UnknownFields): string {
  return formatFinding(unknownFieldsFinding(u));
}

/** What observe and report say when readFlowLogs had to fall back. */
export function fallbackWarning(reason: string): string {
  return `leastpath: warning: DuckDB's parallel CSV scan failed (${reason}); the files were read again without it`;
}

/**
 * Creates the `flow_logs` view and runs `read` (one query over it) with its row counts checked.
 *
 * Every file must have the fields observe and report need (REQUIRED_FIELDS): a text file's header that lacks one
 * fails naming the file and line 1, a Parquet file without such a column naming the file.
 *
 * A failure is explained: a file that fails on its own is named (InputError). When none does, the failure is
 * DuckDB's own: the read is retried once without its parallel CSV scanner (the known limits of parallel CSV
 * reading), and when that fails too, the first error stands.
 *
 * Row counts: beside the read, every local text and gzip file is read to its end by Node and its lines counted
 * (countFileLines, which also fails on a truncated gzip). Every scan of a group of files in the query's profile
 * must have kept exactly those lines, less the header and the lines the reader refused. A scan that kept more or
 * fewer is read again without the parallel scanner; when that still disagrees, the run fails naming the file (one
 * being written while it is read, or a reader that misread it): no observation from records that went missing.
 */
export async function readFlowLogs<T>(
  connection: DuckDBConnection,
  files: readonly FlowLogFile[],
  countFrom: number,
  read: () => Promise<T>,
  /** The files' line counts (countFileLines, started here by default, so that it runs beside DuckDB). */
  counting: Promise<ReadonlyMap<string, number>> = countFileLines(files),
): Promise<{ value: T; fallback?: string; unknownFields?: UnknownFields }> {
  counting.catch(() => undefined);
  const dir = await makeTempFolder('leastpath-profile-');
  const profile = join(dir, 'profile.json');
  const attempt = async (parallel: boolean) => {
    const groups = await createFlowLogsView(connection, files, countFrom, { parallel, requireFields: true });
    await connection.run(`SET enable_profiling = 'json'`);
    await connection.run(`SET profiling_output = ${sqlString(profile)}`);
    try {
      const value = await read();
      return { value, groups, scans: csvScans(JSON.parse(await readFile(profile, 'utf8'))) };
    } finally {
      await connection.run('PRAGMA disable_profiling');
    }
  };
  try {
    let fallback: string | undefined;
    let run: Awaited<ReturnType<typeof attempt>>;
    try {
      run = await attempt(true);
    } catch (err) {
      // A query stopped by its time bound is no file's fault, and reading again would take as long.
      if (err instanceof InputError || err instanceof QueryTimeout) throw err;
      await explainOutOfMemory(connection, err);
      await explainTempArea(dir);
      // DuckDB's message names the file by its absolute path, if at all: find it and name it as the user wrote it.
      const failing = await findFailingFile(connection, files);
      if (failing) {
        const line = /state machine/i.test(failing.message) ? await lineEndingProblem(failing.file) : undefined;
        if (line !== undefined) {
          throw new InputError(
            'this line ends unlike line 1 (a carriage return alone, or CRLF and LF mixed): DuckDB cannot read the file',
            {
              file: failing.file.display,
              line,
            },
          );
        }
        throw new InputError(`cannot read flow-log file: ${failing.message}`, { file: failing.file.display });
      }
      try {
        run = await attempt(false);
        fallback = firstLine((err as Error).message ?? String(err));
      } catch {
        throw err;
      }
    }
    const lines = await counting;
    let refused = await refusedLines(connection);
    let wrong = rowCountMismatch(run.groups, run.scans, lines, refused);
    if (wrong && wrong.group.parallel) {
      fallback = wrong.summary;
      run = await attempt(false);
      refused = await refusedLines(connection);
      wrong = rowCountMismatch(run.groups, run.scans, lines, refused);
    }
    if (wrong) throw await explainMismatch(connection, wrong.group, lines, refused);
    const unknownFields = unknownFieldsOf(run.groups);
    return { value: run.value, ...(fallback !== undefined ? { fallback } : {}), ...(unknownFields ? { unknownFields } : {}) };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** One read_csv in a query profile: the files it read (DuckDB lists the first five, then `...`) and rows kept. */
interface CsvScan {
  names: string;
  files: number;
  rows: number;
}

interface ProfileNode {
  operator_name?: string;
  operator_cardinality?: number;
  extra_info?: Record<string, unknown>;
  children?: ProfileNode[];
}

/** Every READ_CSV operator of a JSON query profile. */
function csvScans(node: ProfileNode): CsvScan[] {
  const out: CsvScan[] = [];
  const walk = (n: ProfileNode) => {
    if (n.operator_name === 'READ_CSV') {
      out.push({
        names: String(n.extra_info?.['Filename(s)'] ?? ''),
        files: Number(n.extra_info?.['Total Files Read'] ?? NaN),
        rows: Number(n.operator_cardinality ?? NaN),
      });
    }
    for (const c of n.children ?? []) walk(c);
  };
  walk(node);
  return out;
}

/** Records a group's files hold by Node's count: lines, less headers and the lines the reader refused. */
function expectedRows(
  files: readonly FlowLogFile[],
  header: boolean,
  lines: ReadonlyMap<string, number>,
  refused: ReadonlyMap<string, number>,
): number {
  return files.reduce((n, f) => n + (lines.get(f.path) ?? 0) - (header ? 1 : 0) - (refused.get(f.path) ?? 0), 0);
}

/**
 * The first group of local files whose scans kept other than the records Node counted, or undefined when all
 * agree. A group with a remote file (s3://) is not counted here. A local group without a scan in the profile
 * is an error: the check must not pass by not finding what to check.
 */
function rowCountMismatch(
  groups: readonly TextGroup[],
  scans: readonly CsvScan[],
  lines: ReadonlyMap<string, number>,
  refused: ReadonlyMap<string, number>,
): { group: TextGroup; summary: string } | undefined {
  for (const group of groups) {
    if (group.files.some((f) => !lines.has(f.path))) continue;
    const first = group.files[0]!.path;
    const mine = scans.filter((s) => s.files === group.files.length && (s.names === first || s.names.startsWith(`${first}, `)));
    if (mine.length === 0) throw new Error(`row-count check: DuckDB's query profile shows no scan of ${group.files[0]!.display}`);
    const want = expectedRows(group.files, group.layout.header, lines, refused);
    const off = mine.find((s) => s.rows !== want);
    if (off) {
      const where = group.files.length === 1 ? group.files[0]!.display : `${group.files.length} files from ${group.files[0]!.display}`;
      return { group, summary: `it kept ${off.rows} records of ${where}, which hold ${want}` };
    }
  }
  return undefined;
}

/** How many lines the CSV reader refused, per file path. */
async function refusedLines(connection: DuckDBConnection): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const r of await rejectRows(connection)) out.set(r.path, (out.get(r.path) ?? 0) + 1);
  return out;
}

/** Counts a mismatched group's records file by file (sequentially) and names the file that disagrees. */
async function explainMismatch(
  connection: DuckDBConnection,
  group: TextGroup,
  lines: ReadonlyMap<string, number>,
  refused: ReadonlyMap<string, number>,
): Promise<InputError> {
  const list = `[${group.files.map((f) => sqlString(f.path)).join(', ')}]`;
  const got = await connection.runAndReadAll(
    `SELECT filename, count(*) FROM read_csv(${list}, ${textReadOptions(group.layout, false)}, filename = true) GROUP BY filename`,
  );
  const kept = new Map(got.getRows().map((r) => [String(r[0]), Number(r[1])]));
  const why = 'the file changed while it was read, or DuckDB misread it; nothing was written';
  for (const f of group.files) {
    const want = expectedRows([f], group.layout.header, lines, refused);
    const have = kept.get(f.path) ?? 0;
    if (have !== want) return new InputError(`DuckDB read ${have} records where the file holds ${want}: ${why}`, { file: f.display });
  }
  const f = group.files[0]!;
  return new InputError(`DuckDB's records of the ${group.files.length} files read with this one disagree with their line counts: ${why}`, {
    file: f.display,
  });
}

/**
 * Line numbers of the malformed rows of one text file (only run for files known to hold some). `refused` are
 * the file's lines the reader refused (reject_errors): they are not rows, so the rows after them sit that much
 * further down the file.
 */
export async function malformedLines(
  connection: DuckDBConnection,
  file: FlowLogFile,
  root: string,
  refused: readonly number[] = [],
): Promise<MalformedLine[]> {
  const layout = layoutFromFirstLine(await readFirstLine(file), file);
  // A single-file scan keeps file order (preserve_insertion_order), so row_number() counts the rows in order.
  const rows = await connection.runAndReadAll(
    `SELECT n, why FROM (SELECT row_number() OVER () AS n, ${malformedReason(layout.fields)} AS why ` +
      `FROM read_csv(${sqlString(file.path)}, ${textReadOptions(layout, false)})) WHERE why IS NOT NULL ORDER BY n`,
  );
  const skipped = [...new Set(refused)].sort((a, b) => a - b);
  let line = layout.header ? 1 : 0;
  let row = 0;
  let k = 0;
  const out: MalformedLine[] = [];
  for (const r of rows.getRows()) {
    const n = Number(r[0]);
    // Walk to the n-th line that is a row: every line after the header that the reader did not refuse.
    while (row < n) {
      line++;
      while (k < skipped.length && skipped[k]! < line) k++;
      if (k < skipped.length && skipped[k] === line) continue;
      row++;
    }
    out.push({ file: displayPath(file.path, root), line, message: String(r[1]) });
  }
  return out;
}

/**
 * Lines the CSV reader refused (wrong field count, bad encoding), from DuckDB's reject tables: one per file path
 * and line, however often the line was read. A line too long for the reader says so (not its missing columns).
 */
async function rejectRows(connection: DuckDBConnection): Promise<{ path: string; line: number; message: string }[]> {
  const exists = await connection.runAndReadAll("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'reject_errors'");
  if (Number(exists.getRows()[0]?.[0] ?? 0) === 0) return [];
  const rows = await connection.runAndReadAll(`
    SELECT s.file_path, e.line, first(e.error_message ORDER BY e.error_type <> 'LINE SIZE OVER MAXIMUM', e.error_message)
    FROM reject_errors e JOIN reject_scans s ON s.scan_id = e.scan_id AND s.file_id = e.file_id
    GROUP BY s.file_path, e.line
    ORDER BY s.file_path, e.line`);
  return rows.getRows().map((r) => ({ path: String(r[0]), line: Number(r[1]), message: String(r[2]) }));
}

/** Lines DuckDB refused, one per file (as the user wrote it) and line. */
export async function readRejects(connection: DuckDBConnection, root: string): Promise<MalformedLine[]> {
  return (await rejectRows(connection)).map((r) => ({ file: displayPath(r.path, root), line: r.line, message: firstLine(r.message) }));
}

/** Fails naming the file when most of its lines are malformed: that is not a flow log. */
export async function checkGarbage(
  connection: DuckDBConnection,
  files: readonly FlowLogFile[],
  malformed: readonly MalformedLine[],
): Promise<void> {
  const perFile = new Map<string, number>();
  for (const m of malformed) perFile.set(m.file, (perFile.get(m.file) ?? 0) + 1);
  for (const f of files) {
    const bad = perFile.get(f.display);
    if (!bad) continue;
    // ignore_errors: a line over DuckDB's max_line_size is one of the malformed lines counted here, not a failure.
    const r = await connection.runAndReadAll(
      `SELECT count(*) FROM read_csv(${sqlString(f.path)}, delim = '\x01', quote = '', escape = '', header = false, ` +
        `auto_detect = false, columns = {'line': 'VARCHAR'}, compression = 'auto', ignore_errors = true)`,
    );
    const lines = Number(r.getRows()[0]?.[0] ?? 0);
    if (lines > 0 && bad / lines > GARBAGE_SHARE) {
      throw new InputError(`${bad} of ${lines} lines are not flow-log records: not a flow log, or the header does not match`, {
        file: f.display,
      });
    }
  }
}

/** When a scan fails, finds the file that fails on its own, so the error can name it. */
async function findFailingFile(
  connection: DuckDBConnection,
  files: readonly FlowLogFile[],
): Promise<{ file: FlowLogFile; message: string } | undefined> {
  for (const f of files) {
    try {
      const src =
        f.kind === 'parquet'
          ? `read_parquet(${sqlString(f.path)})`
          : `read_csv(${sqlString(f.path)}, delim = '\x01', quote = '', escape = '', header = false, auto_detect = false, columns = {'line': 'VARCHAR'}, compression = 'auto')`;
      await connection.runAndReadAll(`SELECT count(*) FROM ${src}`);
    } catch (err) {
      return { file: f, message: firstLine((err as Error).message) };
    }
  }
  return undefined;
}
