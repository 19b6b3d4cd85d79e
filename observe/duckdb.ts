/**
 * The embedded engine: DuckDB reads the flow-log files (text, gzip, Parquet; local paths, globs, s3:// URLs)
 * as a `flow_logs` view with the Athena table's columns, and runs the very query Athena gets (observe/sql.ts).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import type { Dirent } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { DuckDBInstance, type DuckDBConnection, type DuckDBValue } from '@duckdb/node-api';
import { InputError, UsageError } from '../core/errors.js';
import { formatFinding, type Finding } from '../core/findings.js';
import { compareText, firstLine } from '../core/text.js';
import { formatPath, locate, type YamlSource } from '../core/yaml-source.js';
import { columnName, fieldType, TABLE_FIELDS } from './fields.js';
import {
  countFileLines, fileKind, layoutFromFirstLine, lineEndingProblem, readFirstLine, requireFields, type FlowLogFile, type TextLayout,
} from './sources.js';
import type { SqlParam } from './sql.js';

export interface MalformedLine {
  file: string;
  line: number;
  message: string;
}

/** A file where more than this share of lines is malformed is rejected as a whole. */
const GARBAGE_SHARE = 0.5;

export interface DuckDbHandle {
  instance: DuckDBInstance;
  connection: DuckDBConnection;
  /** Closes the connection and the database, and removes its spill directory. */
  close(): void;
}

interface DuckDbOptions {
  /**
   * DuckDB's memory_limit (`flowLogs.memoryLimit`, e.g. `2GB`): beyond it, large groupings and joins spill to disk.
   * Undefined: DuckDB's default.
   */
  memoryLimit?: string | undefined;
}

/**
 * Opens an in-memory DuckDB with no extension downloads (nothing leaves this machine). What it spills goes to a
 * private directory under the OS temp directory, removed on close, never to DuckDB's default for an in-memory
 * database (`.tmp` in the working directory: the repository).
 */
export async function openDuckDb(opts: DuckDbOptions = {}): Promise<DuckDbHandle> {
  // The pid in the name lets the next writer remove a killed run's spill folder and leave a live one's (core/writer.ts).
  let spill: string;
  try {
    spill = mkdtempSync(join(tmpdir(), `leastpath-duckdb-${process.pid}-`));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw code !== undefined && code in TEMP_FAILURES ? tempAreaError(tmpdir(), code) : e;
  }
  const removeSpill = () => rmSync(spill, { recursive: true, force: true });
  let instance: DuckDBInstance;
  try {
    instance = await DuckDBInstance.create(':memory:', {
      autoinstall_known_extensions: 'false',
      autoload_known_extensions: 'true',
      temp_directory: spill,
      ...(opts.memoryLimit !== undefined ? { memory_limit: opts.memoryLimit } : {}),
    });
  } catch (err) {
    removeSpill();
    if (opts.memoryLimit !== undefined) {
      throw new UsageError(`flowLogs.memoryLimit ${JSON.stringify(opts.memoryLimit)}: DuckDB refused it (${firstLine((err as Error).message)})`);
    }
    throw err;
  }
  const connection = await instance.connect();
  return {
    instance,
    connection,
    close: () => {
      connection.closeSync();
      instance.closeSync();
      removeSpill();
    },
  };
}

/** How long one DuckDB query may run, and the setting that says so (named when a query is stopped). */
export interface TimeBound {
  seconds: number;
  /** Where it is set, like `flowLogs.maxSeconds in policies/dev/environment.yaml`. */
  setting: string;
}

/** observe and report: flowLogs.maxSeconds when the environment sets none (as long as Athena was always given). */
export const DEFAULT_FLOW_LOGS_MAX_SECONDS = 1800;

/** The time bound of observe's and report's queries: flowLogs.maxSeconds of the environment, or the default. */
export function flowLogsTimeBound(maxSeconds: number | undefined, environmentFile: string): TimeBound {
  return { seconds: maxSeconds ?? DEFAULT_FLOW_LOGS_MAX_SECONDS, setting: `flowLogs.maxSeconds in ${environmentFile}` };
}

/** A DuckDB query stopped by its time bound (exit 2, like the memory limit: a setting to change, or a query to narrow). */
export class QueryTimeout extends UsageError {}

/**
 * Runs `work` (DuckDB queries on `connection`) and interrupts it when it takes longer than the bound
 * (connection.interrupt(), DuckDB's own cancellation): a QueryTimeout naming the bound and its setting.
 */
export async function withTimeBound<T>(connection: DuckDBConnection, bound: TimeBound | undefined, work: () => Promise<T>): Promise<T> {
  if (bound === undefined) return work();
  let stopped = false;
  let again: NodeJS.Timeout | undefined;
  const timer = setTimeout(() => {
    stopped = true;
    connection.interrupt();
    // An interrupt reaches only a query that is executing, not one being prepared: repeat it until work stops.
    again = setInterval(() => connection.interrupt(), 20);
  }, bound.seconds * 1000);
  try {
    return await work();
  } catch (err) {
    if (stopped) {
      throw new QueryTimeout(
        `the DuckDB query was stopped after ${bound.seconds} s, its time bound (${bound.setting}): narrow the days it reads, ` +
          'avoid joining the table to itself, or raise the setting',
      );
    }
    throw err;
  } finally {
    clearTimeout(timer);
    clearInterval(again);
  }
}

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
      throw new InputError(`the folder ${JSON.stringify(baseDir)} holds one of * ? [ ], which DuckDB reads as a pattern: move the repository to a folder without them`, where());
    }
    const odd = found.find((f) => GLOB_CHAR.test(remote ? f.slice(f.indexOf('/', 5)) : relative(baseDir, f)));
    if (odd) throw new InputError(`the file name ${JSON.stringify(odd)} holds one of * ? [ ], which DuckDB would read as a pattern (other files, or none): rename it`, where());
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
    return new InputError(`cannot read ${displayPath(path, root)} under ${JSON.stringify(displayPath(pattern, root))} (${code}): its flow logs would go unread`, where());
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

function displayPath(path: string, root: string): string {
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
      (await connection.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet(${paths}, union_by_name = true)`)).getRows().map((r) => String(r[0]).replace(/_/g, '-'));
    // Each file on its own as well: one that lacks a column would otherwise pass on the columns of the others.
    if (opts.requireFields) for (const f of parquet) requireFields(await fields(sqlString(f.path)), f);
    const described = await connection.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet(${list}, union_by_name = true)`);
    selects.push(parquetProjection(`read_parquet(${list}, union_by_name = true, filename = true)`, new Map(described.getRows().map((r) => [String(r[0]).replace(/_/g, '-'), String(r[1])]))));
  }
  if (selects.length === 0) throw new InputError('no flow-log files (.log, .log.gz, .parquet) to read');
  await connection.run(`CREATE OR REPLACE TEMP VIEW flow_logs AS\n${selects.join('\nUNION ALL BY NAME\n')}`);
  return [...groups.values()];
}

/** Text files of one header layout and compression: the view reads each group with one read_csv. */
interface TextGroup {
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
function textReadOptions(layout: TextLayout, parallel: boolean): string {
  const columns = layout.fields.map((f) => `${sqlString(columnName(f))}: 'VARCHAR'`).join(', ');
  return (
    `delim = ' ', quote = '', escape = '', header = ${layout.header}, auto_detect = false, columns = {${columns}}, ` +
    `nullstr = '', null_padding = false, strict_mode = true, ignore_errors = true, store_rejects = true, compression = 'auto', ` +
    `parallel = ${parallel}`
  );
}

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
          throw new InputError('this line ends unlike line 1 (a carriage return alone, or CRLF and LF mixed): DuckDB cannot read the file', {
            file: failing.file.display,
            line,
          });
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

/** Why a folder of the temp area cannot take a file, as the code Node gives; undefined when it can. */
const TEMP_FAILURES: Record<string, string> = {
  ENOSPC: 'the disk is full',
  EDQUOT: 'the disk quota is used up',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EROFS: 'the file system is read-only',
};

/** The OS temp area (TMPDIR) refused a file of leastpath's: where, why, and the setting to change. */
export function tempAreaError(path: string, code: string): UsageError {
  return new UsageError(
    `cannot write in the temp area ${path}: ${TEMP_FAILURES[code] ?? code} (${code}); DuckDB's spill and profile files go under TMPDIR: ` +
      'free space there, or point TMPDIR at a writable folder with room',
  );
}

/**
 * After a read failed: when the temp area cannot take a small file now, that is the cause (DuckDB says only "Failed
 * to execute prepared statement" when it cannot write its profile), not a file or DuckDB.
 */
export async function explainTempArea(dir: string): Promise<void> {
  const probe = join(dir, '.leastpath-probe');
  try {
    await writeFile(probe, Buffer.alloc(64 * 1024));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== undefined && code in TEMP_FAILURES) throw tempAreaError(dir, code);
  } finally {
    await rm(probe, { force: true }).catch(() => undefined);
  }
}

/** A temp folder of leastpath's under TMPDIR, named `<prefix><pid>-XXXXXX`; a full or read-only temp area is explained. */
async function makeTempFolder(prefix: string): Promise<string> {
  try {
    return await mkdtemp(join(tmpdir(), `${prefix}${process.pid}-`));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw code !== undefined && code in TEMP_FAILURES ? tempAreaError(tmpdir(), code) : e;
  }
}

/** DuckDB ran out of memory: that is the limit's doing, not a file's (every file would fail alone too). */
async function explainOutOfMemory(connection: DuckDBConnection, err: unknown): Promise<void> {
  const full = (err as Error).message ?? String(err);
  const message = firstLine(full);
  if (!/^Out of Memory Error/i.test(message)) return;
  const setting = async (name: string) => String((await connection.runAndReadAll(`SELECT current_setting('${name}')`)).getRows()[0]?.[0] ?? '?');
  const limit = await setting('memory_limit');
  // DuckDB caps its spill at the free space of the spill folder's disk and reports a full disk as running out of memory.
  if (/max_temp_directory_size/.test(full)) {
    throw new UsageError(
      `DuckDB's spill folder ${await setting('temp_directory')} (under TMPDIR) has no room for what exceeds its memory limit of ${limit} ` +
        `(${message}): the disk is full there; free space, point TMPDIR at a folder on a disk with room, or raise flowLogs.memoryLimit in environment.yaml so less is spilled`,
    );
  }
  throw new UsageError(
    `DuckDB ran out of memory within its limit of ${limit} (${message}): raise flowLogs.memoryLimit in environment.yaml, ` +
      'run on a machine with more memory, or set flowLogs.engine: athena',
  );
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
function expectedRows(files: readonly FlowLogFile[], header: boolean, lines: ReadonlyMap<string, number>, refused: ReadonlyMap<string, number>): number {
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
  return new InputError(`DuckDB's records of the ${group.files.length} files read with this one disagree with their line counts: ${why}`, { file: f.display });
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
    .map((f) => [`(${raw(f)} <> '-' AND (${number(f)} IS NULL OR NOT regexp_full_match(${raw(f)}, '[0-9]+')))`, `'${f} ' || ${raw(f)} || ' is not a whole number'`]);
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
    checks.push([`${number('start')} > ${number('end')} + ${START_TOLERANCE_SECONDS}`, `'start ' || ${raw('start')} || ' is more than ${START_TOLERANCE_SECONDS} s after end ' || ${raw('end')}`]);
  }
  return checks;
}

/** SQL that is true when a row the reader kept is still not a well-formed record (malformedChecks). */
function malformedExpr(fields: readonly string[], number = (f: string) => `TRY_CAST("${columnName(f)}" AS ${fieldType(f)})`): string {
  const checks = malformedChecks(fields, (f) => `"${columnName(f)}"`, number);
  return checks.length === 0 ? 'false' : `coalesce(${checks.map(([c]) => c).join(' OR ')}, false)`;
}

/** SQL text saying why a row is malformed (the first check it fails), NULL for a well-formed one. */
function malformedReason(fields: readonly string[]): string {
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
  const start = present.has('start') ? `CASE WHEN __bad THEN CAST(${countFrom} AS BIGINT) ELSE ${number('start')} END` : 'CAST(NULL AS BIGINT)';
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

/**
 * Line numbers of the malformed rows of one text file (only run for files known to hold some). `refused` are
 * the file's lines the reader refused (reject_errors): they are not rows, so the rows after them sit that much
 * further down the file.
 */
export async function malformedLines(connection: DuckDBConnection, file: FlowLogFile, root: string, refused: readonly number[] = []): Promise<MalformedLine[]> {
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

/** Runs a prepared statement with positional parameters and returns rows as objects. */
export async function query(connection: DuckDBConnection, sql: string, params: readonly SqlParam[]): Promise<Record<string, DuckDBValue>[]> {
  const stmt = await connection.prepare(sql);
  params.forEach((v, i) => {
    if (typeof v === 'number') {
      if (Number.isInteger(v)) stmt.bindBigInt(i + 1, BigInt(v));
      else stmt.bindDouble(i + 1, v);
    } else {
      stmt.bindVarchar(i + 1, v);
    }
  });
  const reader = await stmt.runAndReadAll();
  return reader.getRowObjects();
}

/**
 * Lines the CSV reader refused (wrong field count, bad encoding), from DuckDB's reject tables: one per file path
 * and line, however often the line was read. A line too long for the reader says so (not its missing columns).
 */
async function rejectRows(connection: DuckDBConnection): Promise<{ path: string; line: number; message: string }[]> {
  const exists = await connection.runAndReadAll(
    "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'reject_errors'",
  );
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
export async function checkGarbage(connection: DuckDBConnection, files: readonly FlowLogFile[], malformed: readonly MalformedLine[]): Promise<void> {
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
async function findFailingFile(connection: DuckDBConnection, files: readonly FlowLogFile[]): Promise<{ file: FlowLogFile; message: string } | undefined> {
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
