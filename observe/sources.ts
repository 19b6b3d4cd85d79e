/**
 * Where an environment's flow logs come from: its files or its Athena table, checked for the engine that reads
 * them (flowLogsFor). Finding the files and reading the header line of each: the header, not an assumed order,
 * decides which column is which. Files without a header are the v2 default format.
 */
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { InputError, UsageError } from '../core/errors.js';
import type { AthenaConfig, Engine, EnvironmentConfig, EnvironmentPolicies } from '../model/types.js';
import { columnName, DEFAULT_FORMAT, normaliseField, REQUIRED_FIELDS } from './fields.js';

/** An environment's flowLogs as one engine reads them: duckdb with files, or athena with its table. */
export type EngineFlowLogs = EnvironmentConfig['flowLogs'] & ({ engine: 'duckdb' } | { engine: 'athena'; athena: AthenaConfig });

/**
 * The environment's flowLogs checked for `engine` (default flowLogs.engine; observe and report --engine choose
 * another): duckdb needs files to read, athena the database, table and workgroup. A UsageError names environment.yaml.
 */
export function flowLogsFor(
  environment: EnvironmentPolicies,
  engine: Engine = environment.environment.value.flowLogs.engine,
): EngineFlowLogs {
  const file = environment.environment.source.file;
  const flowLogs = environment.environment.value.flowLogs;
  if (engine === 'duckdb') {
    if (flowLogs.files.length === 0) throw new UsageError(`${file}: flowLogs.files is empty: the duckdb engine needs files to read`);
    return { ...flowLogs, engine };
  }
  if (!flowLogs.athena) throw new UsageError(`${file}: flowLogs.athena is not set: the athena engine needs database, table and workgroup`);
  return { ...flowLogs, engine, athena: flowLogs.athena };
}

type FileKind = 'text' | 'gzip' | 'parquet';

export interface FlowLogFile {
  /** Path as DuckDB opens it (absolute, or an s3:// URL). */
  path: string;
  /** Path for messages: relative to the repository root where it lies inside it. */
  display: string;
  kind: FileKind;
}

export interface TextLayout {
  /** Hyphenated field names in file order. */
  fields: string[];
  /** True when line 1 is a header (and is skipped). */
  header: boolean;
  /** Header fields leastpath does not know, as written: read past (their columns are never used). */
  unknown?: string[];
}

export function fileKind(path: string): FileKind | undefined {
  if (/\.log\.gz$/i.test(path) || /\.gz$/i.test(path)) return 'gzip';
  if (/\.parquet$/i.test(path)) return 'parquet';
  if (/\.(log|txt)$/i.test(path)) return 'text';
  return undefined;
}

/** The first line of a text or gzip file (at most 64 KiB read); throws InputError when it cannot be read. */
export async function readFirstLine(file: FlowLogFile): Promise<string> {
  const fh = await open(file.path, 'r').catch((err: NodeJS.ErrnoException) => {
    throw new InputError(`cannot open flow-log file: ${err.code ?? err.message}`, { file: file.display });
  });
  try {
    const buf = Buffer.alloc(64 * 1024);
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    const head = buf.subarray(0, bytesRead);
    const text = file.kind === 'gzip' ? await gunzipPrefix(head, file) : head.toString('utf8');
    const nl = text.indexOf('\n');
    return (nl >= 0 ? text.slice(0, nl) : text).replace(/\r$/, '');
  } finally {
    await fh.close();
  }
}

/** Inflates as much of a gzip prefix as it holds; a file that is not gzip at all is an InputError. */
function gunzipPrefix(head: Buffer, file: FlowLogFile): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const z = createGunzip();
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      resolve(Buffer.concat(chunks).toString('utf8'));
    };
    z.on('data', (c: Buffer) => {
      chunks.push(c);
      if (c.includes(0x0a)) {
        finish();
        z.destroy();
      }
    });
    z.on('end', finish);
    z.on('error', (err: NodeJS.ErrnoException) => {
      // A prefix of a valid stream ends early ("unexpected end of file"): that is fine here.
      if (chunks.length > 0 || err.code === 'Z_BUF_ERROR') return finish();
      if (done) return;
      done = true;
      reject(new InputError(`not a gzip file, or it does not decompress: ${err.message}`, { file: file.display, line: 1 }));
    });
    z.end(head);
  });
}

/** Large reads and inflate chunks: the pass runs at zlib's speed, not at the speed of 16 KiB stream callbacks. */
const READ_CHUNK = 1 << 20;

/**
 * Counts the lines of a text stream that hold anything, as DuckDB's CSV reader sees them: a line ends at `\n`,
 * and a line that is empty, or only the `\r` of a CRLF ending, is no row (DuckDB skips it without a reject).
 */
export class LineCounter {
  private count = 0;
  /** Bytes of the current line so far, and its first byte. */
  private len = 0;
  private first = 0;

  push(chunk: Uint8Array): void {
    let at = 0;
    for (;;) {
      const nl = chunk.indexOf(0x0a, at);
      const stop = nl < 0 ? chunk.length : nl;
      if (stop > at) {
        if (this.len === 0) this.first = chunk[at]!;
        this.len += stop - at;
      }
      if (nl < 0) return;
      this.endLine();
      at = nl + 1;
    }
  }

  /** The count, once the stream has ended (a last line without a newline counts too). */
  finish(): number {
    this.endLine();
    return this.count;
  }

  private endLine(): void {
    if (this.len > 1 || (this.len === 1 && this.first !== 0x0d)) this.count++;
    this.len = 0;
  }
}

/** True for s3:// and other URLs: files this machine cannot read on its own. */
function isRemote(path: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(path);
}

/**
 * Streams a local text or gzip file (inflated) to `onChunk` in large chunks; `onChunk` returns true to stop early.
 * Rejects with the read or inflate error (a stop is no error).
 */
async function streamText(file: FlowLogFile, onChunk: (chunk: Buffer) => boolean | void): Promise<void> {
  const STOP = new Error('stop');
  const sink = new Writable({
    highWaterMark: READ_CHUNK,
    write: (chunk: Buffer, _enc, done) => done(onChunk(chunk) === true ? STOP : null),
  });
  const source = createReadStream(file.path, { highWaterMark: READ_CHUNK });
  const read = file.kind === 'gzip' ? pipeline(source, createGunzip({ chunkSize: READ_CHUNK }), sink) : pipeline(source, sink);
  await read.catch((err: unknown) => {
    if (err !== STOP) throw err;
  });
}

/**
 * Reads every local text and gzip file to its end and counts its lines (LineCounter): the figures DuckDB's row
 * counts are checked against (readFlowLogs). A gzip file is inflated to its end on the way, and the first one
 * that is truncated or corrupt fails the run by name: DuckDB reads a truncated gzip as far as it goes without a
 * word, which would turn a half-delivered file into a quietly shorter observation. Two files at a time (reading
 * and inflating happen on libuv's threads, beside DuckDB's); the bytes are dropped as they are counted.
 */
export async function countFileLines(
  files: readonly FlowLogFile[],
  parallel = 2,
  /** Called as each file is counted (progress). */
  onFile?: (lines: number) => void,
): Promise<Map<string, number>> {
  const local = files.filter((f) => f.kind !== 'parquet' && !isRemote(f.path));
  const counts = new Map<string, number>();
  const failures: { index: number; error: InputError }[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < local.length && failures.length === 0) {
      const index = next++;
      const f = local[index]!;
      const counter = new LineCounter();
      await streamText(f, (chunk) => counter.push(chunk)).then(
        () => {
          counts.set(f.path, counter.finish());
          onFile?.(counts.get(f.path)!);
        },
        (err: NodeJS.ErrnoException) => {
          const what = f.kind === 'gzip' && !err.syscall ? 'truncated or corrupt gzip' : 'cannot read flow-log file';
          failures.push({ index, error: new InputError(`${what}: ${err.message}`, { file: f.display }) });
        },
      );
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, parallel) }, worker));
  // Files are taken in order and those under way finish, so the first broken file is always the one named.
  if (failures.length > 0) throw failures.sort((a, b) => a.index - b.index)[0]!.error;
  return counts;
}

/**
 * The first line whose ending differs from line 1's (LF or CRLF), or that holds a carriage return of its own: what
 * makes DuckDB's CSV reader give up on a whole file ("state machine reached an invalid state"). Undefined when every
 * line ends alike, or for a file this machine cannot read by itself.
 */
export async function lineEndingProblem(file: FlowLogFile): Promise<number | undefined> {
  if (file.kind === 'parquet' || isRemote(file.path)) return undefined;
  let line = 1;
  let crlf: boolean | undefined;
  let prev = 0;
  let found: number | undefined;
  await streamText(file, (chunk) => {
    for (let i = 0; i < chunk.length && found === undefined; i++) {
      const b = chunk[i]!;
      if (b === 0x0a) {
        const endsCr = prev === 0x0d;
        crlf ??= endsCr;
        if (endsCr !== crlf) found = line;
        line++;
      } else if (prev === 0x0d) {
        found = line; // a carriage return inside a line
      }
      prev = b;
    }
    return found !== undefined;
  }).catch(() => undefined);
  return found;
}

/** Reads the layout from the first line: a header of known field names, or a v2 default-format record. */
export function layoutFromFirstLine(line: string, file: FlowLogFile): TextLayout {
  const tokens = line
    .trim()
    .split(/\s+/)
    .filter((t) => t !== '');
  if (tokens.length === 0)
    throw new InputError('empty first line: expected a header or a flow-log record', { file: file.display, line: 1 });
  const looksLikeData = /^\d+$/.test(tokens[0]!);
  if (looksLikeData) {
    if (tokens.length !== DEFAULT_FORMAT.length) {
      throw new InputError(
        `no header line, and the first record has ${tokens.length} fields where the v2 default format has ${DEFAULT_FORMAT.length}: ` +
          'deliver custom formats with their header line',
        { file: file.display, line: 1 },
      );
    }
    return { fields: [...DEFAULT_FORMAT], header: false };
  }
  const fields: string[] = [];
  const unknown: string[] = [];
  for (const [i, t] of tokens.entries()) {
    // AWS adds fields (v7, v8 ...): one leastpath does not know is read past as an unused column, and named once.
    const f = normaliseField(t) ?? `${UNKNOWN_FIELD}${i + 1}`;
    if (f.startsWith(UNKNOWN_FIELD)) unknown.push(t);
    if (fields.includes(f) || (f.startsWith(UNKNOWN_FIELD) && unknown.indexOf(t) !== unknown.length - 1)) {
      throw new InputError(`field ${JSON.stringify(t)} appears twice in the header`, { file: file.display, line: 1 });
    }
    fields.push(f);
  }
  // A first line without one known field is no header of a flow log (nor a v2 record).
  if (unknown.length === tokens.length) {
    throw new InputError(`unknown field ${JSON.stringify(tokens[0])} in the header (field 1), and no field of a flow log`, {
      file: file.display,
      line: 1,
    });
  }
  return { fields, header: true, unknown };
}

/** The field name given to a header token leastpath does not know (its column: `unknown_N`, N its position). */
const UNKNOWN_FIELD = 'unknown-';

/**
 * Fails with an InputError naming the file when its fields (a text file's header, line 1; a Parquet file's columns,
 * named as Parquet names them) lack any of REQUIRED_FIELDS.
 */
export function requireFields(fields: Iterable<string>, file: FlowLogFile): void {
  const have = new Set(fields);
  const missing = REQUIRED_FIELDS.filter((f) => !have.has(f));
  if (missing.length === 0) return;
  const parquet = file.kind === 'parquet';
  const names = (fs: readonly string[]) => (parquet ? fs.map(columnName) : fs).join(', ');
  const lacks = parquet
    ? `the file lacks the column${missing.length > 1 ? 's' : ''} ${names(missing)}`
    : `the header lacks ${names(missing)}`;
  throw new InputError(`${lacks}: observe and report need ${names(REQUIRED_FIELDS)}`, {
    file: file.display,
    ...(parquet ? {} : { line: 1 }),
  });
}
