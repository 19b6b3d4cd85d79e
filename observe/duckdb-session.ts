/**
 * The DuckDB session of the embedded engine: an in-memory database opened with no extension downloads and its spill
 * in a private temp folder, closed with it; the time bound of its queries, their parameters, and what a full temp
 * area or an exhausted memory limit means.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance, type DuckDBConnection, type DuckDBValue } from '@duckdb/node-api';
import { UsageError } from '../core/errors.js';
import { firstLine } from '../core/text.js';
import type { SqlParam } from './sql.js';

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
      throw new UsageError(
        `flowLogs.memoryLimit ${JSON.stringify(opts.memoryLimit)}: DuckDB refused it (${firstLine((err as Error).message)})`,
      );
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
export async function makeTempFolder(prefix: string): Promise<string> {
  try {
    return await mkdtemp(join(tmpdir(), `${prefix}${process.pid}-`));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw code !== undefined && code in TEMP_FAILURES ? tempAreaError(tmpdir(), code) : e;
  }
}

/** DuckDB ran out of memory: that is the limit's doing, not a file's (every file would fail alone too). */
export async function explainOutOfMemory(connection: DuckDBConnection, err: unknown): Promise<void> {
  const full = (err as Error).message ?? String(err);
  const message = firstLine(full);
  if (!/^Out of Memory Error/i.test(message)) return;
  const setting = async (name: string) =>
    String((await connection.runAndReadAll(`SELECT current_setting('${name}')`)).getRows()[0]?.[0] ?? '?');
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

/** Runs a prepared statement with positional parameters and returns rows as objects. */
export async function query(
  connection: DuckDBConnection,
  sql: string,
  params: readonly SqlParam[],
): Promise<Record<string, DuckDBValue>[]> {
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
