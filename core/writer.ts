/**
 * The start of every command that writes the repository (observe, run, synth): take the one-writer lock, then
 * settle what a killed run left: its half-done write set (journal) completed or undone, its temp and backup files,
 * synth scratch folders and DuckDB spill folders removed. Only then does the command read anything.
 */
import { stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { explainFsError, recoverWrites, removeLeftoverFolders, removeLeftoverTemps, type Recovery } from './atomic.js';
import { InputError } from './errors.js';
import { acquireLock, LOCK_FILE, STATE_DIR } from './lock.js';

/** The write journal of a repository (see core/atomic.ts). */
export function journalPath(root: string): string {
  return join(root, STATE_DIR, 'journal.json');
}

/** Scratch folders leastpath makes under the OS temp directory, each named `<prefix><pid>-XXXXXX`. */
export const TEMP_PREFIXES = ['leastpath-duckdb-', 'leastpath-profile-', 'leastpath-baseline-'];

/** The synth scratch folder beside an output folder: `.<out>.synth-<pid>-XXXXXX`. */
export function synthScratchPrefix(outDir: string): string {
  return `.${basename(outDir)}.synth-`;
}

export interface WriterOptions {
  /** Output folders the command writes besides observed/ (synth's `--out`), absolute. */
  outputs?: string[];
  stderr: (line: string) => void;
}

/** Runs `fn` as the repository's one writer, after settling what an earlier killed run left behind. */
export async function asWriter<T>(root: string, command: string, opts: WriterOptions, fn: () => Promise<T>): Promise<T> {
  // No repository there: the command says so itself; a lock would create the folder.
  if (
    !(await stat(root).then(
      (s) => s.isDirectory(),
      () => false,
    ))
  )
    return fn();
  const lock = await acquireLock(root, command).catch((err: unknown) => {
    throw explainFsError(err, join(root, LOCK_FILE));
  });
  try {
    const recovery = await recoverWrites(journalPath(root)).catch((err: unknown) => {
      throw err instanceof InputError ? new InputError(err.message, { file: `${STATE_DIR}/journal.json`, line: 1, col: 1 }) : err;
    });
    if (recovery) opts.stderr(recoveryLine(root, recovery));
    const leftovers = [...(await removeLeftoverTemps(join(root, 'observed'))), ...(await removeLeftoverTemps(join(root, STATE_DIR)))];
    for (const out of opts.outputs ?? []) {
      leftovers.push(...(await removeLeftoverTemps(out)), ...(await removeLeftoverFolders(dirname(out), synthScratchPrefix(out))));
    }
    for (const prefix of TEMP_PREFIXES) leftovers.push(...(await removeLeftoverFolders(tmpdir(), prefix)));
    if (leftovers.length > 0) opts.stderr(`leastpath: removed ${leftovers.length} temp file(s) or folder(s) that a killed run left`);
    return await fn();
  } finally {
    await lock.release();
  }
}

function recoveryLine(root: string, r: Recovery): string {
  const names = r.files.map((f) => relative(root, resolve(f)).split('\\').join('/')).join(', ');
  return r.rolled === 'forward'
    ? `leastpath: completed the write a killed run left half-done (all new now): ${names}`
    : `leastpath: undid the write a killed run left half-done (all as before it): ${names}`;
}
