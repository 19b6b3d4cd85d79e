/**
 * Finding the flow-log files of an environment and reading the header line of each: the header, not an
 * assumed order, decides which column is which. Files without a header are the v2 default format.
 */
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { InputError } from '../core/errors.js';
import { DEFAULT_FORMAT, normaliseField } from './fields.js';

export type FileKind = 'text' | 'gzip' | 'parquet';

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

/** Large reads and inflate chunks: the check runs at zlib's speed, not at the speed of 16 KiB stream callbacks. */
const GZIP_CHUNK = 1 << 20;

/**
 * Decompresses every local gzip file to its end and fails naming the first that is truncated or corrupt.
 * DuckDB reads a truncated gzip as far as it goes without a word, which would turn a half-delivered file
 * into a quietly shorter observation. Two files at a time (the inflating happens on libuv's threads, beside
 * DuckDB's); the inflated bytes are dropped as they come.
 */
export async function checkGzipComplete(files: readonly FlowLogFile[], parallel = 2): Promise<void> {
  const local = files.filter((f) => f.kind === 'gzip' && !/^[a-z][a-z0-9+.-]*:\/\//i.test(f.path));
  const failures: { index: number; error: InputError }[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < local.length && failures.length === 0) {
      const index = next++;
      const f = local[index]!;
      const sink = new Writable({ highWaterMark: GZIP_CHUNK, write: (_chunk, _enc, done) => done() });
      await pipeline(createReadStream(f.path, { highWaterMark: GZIP_CHUNK }), createGunzip({ chunkSize: GZIP_CHUNK }), sink).catch((err: Error) => {
        failures.push({ index, error: new InputError(`truncated or corrupt gzip: ${err.message}`, { file: f.display }) });
      });
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, parallel) }, worker));
  // Files are taken in order and those under way finish, so the first broken file is always the one named.
  if (failures.length > 0) throw failures.sort((a, b) => a.index - b.index)[0]!.error;
}

/** Reads the layout from the first line: a header of known field names, or a v2 default-format record. */
export function layoutFromFirstLine(line: string, file: FlowLogFile): TextLayout {
  const tokens = line.trim().split(/\s+/).filter((t) => t !== '');
  if (tokens.length === 0) throw new InputError('empty first line: expected a header or a flow-log record', { file: file.display, line: 1 });
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
  for (const [i, t] of tokens.entries()) {
    const f = normaliseField(t);
    if (!f) throw new InputError(`unknown field ${JSON.stringify(t)} in the header (field ${i + 1})`, { file: file.display, line: 1 });
    if (fields.includes(f)) throw new InputError(`field ${JSON.stringify(t)} appears twice in the header`, { file: file.display, line: 1 });
    fields.push(f);
  }
  return { fields, header: true };
}
