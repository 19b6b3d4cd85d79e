/**
 * Writing generated files so that nothing is lost: every file goes to a temp file in its own folder first,
 * and only when all of them are written are they renamed into place. Unchanged files are not touched. Should a
 * rename fail (a folder where a file should be, a read-only folder), the files already renamed are put back as
 * they were and the temp files removed: the set is written whole or not at all.
 *
 * Crash safety (a `kill -9`, a power cut): temp files are fsynced before the first rename and their folders after
 * the last; with a journal (`WriteOptions.journal`), the intended renames are recorded, fsynced, before the first
 * temp file is written and again before the first rename. `recoverWrites` (run by the next writing command, under
 * the repository's lock) then completes a half-done set (all new) or removes its temp files (all old).
 */
import { randomBytes } from 'node:crypto';
import { copyFile, link, mkdir, open, readdir, readFile, rename, rm, rmdir, stat } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { InputError } from './errors.js';
import { processAlive } from './lock.js';

export interface PlannedFile {
  path: string;
  content: string | Uint8Array;
}

export interface WriteResult {
  written: string[];
  unchanged: string[];
}

export interface WriteOptions {
  /** The journal file (`.leastpath/journal.json` of the repository): records the renames so a crash can be undone. */
  journal?: string;
}

/** One file of a write in the journal: paths relative to the journal's folder, so a moved repository still recovers. */
interface JournalEntry {
  path: string;
  tmp: string;
  backup: string;
}

/** `staging`: temp files being written, nothing renamed; `renaming`: complete temp files being renamed into place; `undoing`: a failed rename being undone. */
type Phase = 'staging' | 'renaming' | 'undoing';

interface Journal {
  phase: Phase;
  files: JournalEntry[];
}

/** Test-only: stop (waiting to be killed) after this many renames of a write set, to test crash recovery for real. */
const PAUSE_HOOK = 'LEASTPATH_TEST_PAUSE_AFTER_RENAMES';

/** Writes all files or none: temp files first, renames last; files whose bytes are unchanged are skipped. */
export async function writeFilesAtomic(files: readonly PlannedFile[], opts: WriteOptions = {}): Promise<WriteResult> {
  const staged: { tmp: string; path: string; next: Buffer }[] = [];
  const unchanged: string[] = [];
  for (const f of files) {
    const next = typeof f.content === 'string' ? Buffer.from(f.content, 'utf8') : Buffer.from(f.content);
    const prev = await readFile(f.path).catch(() => undefined);
    if (prev && prev.equals(next)) {
      unchanged.push(f.path);
      continue;
    }
    staged.push({ tmp: `${f.path}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`, path: f.path, next });
  }
  if (staged.length === 0) return { written: [], unchanged };
  const journal = opts.journal;
  const entries = staged.map((s) => ({ path: s.path, tmp: s.tmp, backup: `${s.tmp}.prev` }));
  if (journal) await writeJournal(journal, 'staging', entries);
  try {
    for (const s of staged) {
      await mkdir(dirname(s.path), { recursive: true }).catch((err: unknown) => {
        throw explainFsError(err, dirname(s.path));
      });
      await writeDurably(s.tmp, s.next);
    }
    for (const d of folders(staged.map((s) => s.tmp))) await syncFolder(d);
  } catch (err) {
    await Promise.all(staged.map((s) => discard(s.tmp)));
    if (journal) await dropJournal(journal);
    throw err;
  }
  if (journal) await writeJournal(journal, 'renaming', entries);
  await commit(entries, journal);
  if (journal) await dropJournal(journal);
  return { written: staged.map((s) => s.path), unchanged };
}

/**
 * Renames the temp files into place. Each replaced file is kept under a second name (a hard link, else a copy)
 * until every rename succeeded; on a failure the replaced files come back, new ones go, and so do the temp files.
 */
async function commit(staged: readonly JournalEntry[], journal: string | undefined): Promise<void> {
  const done: { path: string; backup: string | null }[] = [];
  const backups: string[] = [];
  const pauseAfter = Number(process.env[PAUSE_HOOK] ?? NaN);
  try {
    for (const s of staged) {
      const kept = await link(s.path, s.backup).then(
        () => true,
        (err: NodeJS.ErrnoException) => (err.code === 'ENOENT' ? false : copyFile(s.path, s.backup).then(() => true)),
      );
      if (kept) backups.push(s.backup);
      await rename(s.tmp, s.path);
      done.push({ path: s.path, backup: kept ? s.backup : null });
      if (done.length === pauseAfter) await pauseForTest(done.length);
    }
    for (const d of folders(staged.map((s) => s.path))) await syncFolder(d);
  } catch (err) {
    if (journal) await writeJournal(journal, 'undoing', staged).catch(() => undefined);
    for (const d of done.reverse()) await (d.backup ? rename(d.backup, d.path) : rm(d.path, { force: true })).catch(() => undefined);
    await Promise.all([...staged.map((s) => s.tmp), ...backups].map(discard));
    if (journal) await dropJournal(journal);
    const failed = staged[done.length];
    const explained = explainFsError(err, failed?.path);
    if (explained instanceof Error && failed) explained.message = `${explained.message} (writing ${failed.path}; nothing was written)`;
    throw explained;
  }
  await Promise.all(backups.map((f) => rm(f, { force: true })));
}

/** Removes a temp file if it is there; one whose folder never came to be (a file in its place) is no error. */
async function discard(path: string): Promise<void> {
  await rm(path, { force: true }).catch(() => undefined);
}

/** Writes a file and flushes it to the disk before it may be renamed over anything. */
async function writeDurably(path: string, bytes: Uint8Array): Promise<void> {
  try {
    const handle = await open(path, 'w');
    try {
      await handle.writeFile(bytes);
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch (err) {
    await discard(path);
    throw explainFsError(err, path);
  }
}

/** Flushes a folder's entries (the renames in it); a platform that cannot open a folder (Windows) is left as is. */
async function syncFolder(dir: string): Promise<void> {
  let handle;
  try {
    handle = await open(dir, 'r');
  } catch {
    return;
  }
  try {
    await handle.sync().catch(() => undefined);
  } finally {
    await handle.close();
  }
}

function folders(paths: readonly string[]): string[] {
  return [...new Set(paths.map((p) => dirname(p)))];
}

async function writeJournal(journal: string, phase: Phase, entries: readonly JournalEntry[]): Promise<void> {
  const base = dirname(journal);
  await mkdir(base, { recursive: true });
  const doc: Journal = {
    phase,
    files: entries.map((e) => ({ path: relative(base, e.path), tmp: relative(base, e.tmp), backup: relative(base, e.backup) })),
  };
  const tmp = `${journal}.tmp-${process.pid}`;
  await writeDurably(tmp, Buffer.from(`${JSON.stringify(doc, null, 2)}\n`));
  await rename(tmp, journal);
  await syncFolder(base);
}

/** Removes the journal, and its folder when nothing else is in it (the lock keeps it while a command runs). */
async function dropJournal(journal: string): Promise<void> {
  await rm(journal, { force: true });
  await rmdir(dirname(journal)).catch(() => undefined);
}

async function pauseForTest(renames: number): Promise<never> {
  process.stderr.write(`${PAUSE_HOOK}: paused after ${renames} rename(s)\n`);
  return new Promise<never>(() => {
    setInterval(() => undefined, 60_000);
  });
}

export interface Recovery {
  /** What was done with a set a killed run left half-written: completed (`forward`), or undone (`back`). */
  rolled: 'forward' | 'back';
  /** The files of the set (absolute paths). */
  files: string[];
}

/**
 * Completes or undoes the write set a killed run left in `journal`, so the set is all-new or all-old; null when
 * there is none. Temp files fully written and fsynced before the first rename are renamed into place (forward);
 * a set still being staged, or one whose rename fails now, is undone from the kept originals (back).
 */
export async function recoverWrites(journal: string): Promise<Recovery | null> {
  const text = await readFile(journal, 'utf8').catch(() => undefined);
  await rm(`${journal}.tmp-${process.pid}`, { force: true });
  if (text === undefined) return null;
  let doc: Journal;
  try {
    doc = JSON.parse(text) as Journal;
  } catch {
    // A journal is renamed into place whole, so this one is not leastpath's: touch nothing, say so.
    throw new InputError('not a write journal leastpath wrote (it cannot be read as one); check the files around it, then delete it', {
      file: journal,
    });
  }
  const base = dirname(journal);
  const entries = doc.files.map((e) => ({ path: resolve(base, e.path), tmp: resolve(base, e.tmp), backup: resolve(base, e.backup) }));
  let rolled: Recovery['rolled'] = doc.phase === 'renaming' ? 'forward' : 'back';
  if (rolled === 'forward') {
    try {
      for (const e of entries) if (await present(e.tmp)) await rename(e.tmp, e.path);
      for (const d of folders(entries.map((e) => e.path))) await syncFolder(d);
    } catch {
      rolled = 'back';
    }
  }
  if (rolled === 'back' && doc.phase !== 'staging') {
    // Renamed files have no temp file left: put the kept original back, or remove a file that was new.
    for (const e of entries) {
      if (await present(e.tmp)) continue;
      if (await present(e.backup)) await rename(e.backup, e.path);
      else await rm(e.path, { force: true });
    }
  }
  await Promise.all(entries.flatMap((e) => [discard(e.tmp), discard(e.backup)]));
  await dropJournal(journal);
  return { rolled, files: entries.map((e) => e.path) };
}

async function present(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

/** A temp or backup file of writeFilesAtomic, or a scratch folder named `<prefix><pid>-...`: its writer's pid. */
const TEMP_NAME = /\.tmp-(\d+)-[0-9a-f]{8}(\.prev)?$/;

/**
 * Removes what killed runs left behind in `dir` (recursively): temp and backup files of writeFilesAtomic whose
 * process is gone. A live process's files are left alone (a reader, or another repository's writer). Returns them.
 */
export async function removeLeftoverTemps(dir: string): Promise<string[]> {
  const names = await readdir(dir, { recursive: true }).catch(() => [] as string[]);
  const removed: string[] = [];
  for (const name of names) {
    const m = TEMP_NAME.exec(basename(name));
    if (!m || processAlive(Number(m[1]))) continue;
    await rm(join(dir, name), { force: true });
    removed.push(join(dir, name));
  }
  return removed.sort();
}

/** Removes the folders `<prefix><pid>-*` in `dir` (DuckDB spill folders, synth scratch) whose process is gone. */
export async function removeLeftoverFolders(dir: string, prefix: string): Promise<string[]> {
  const names = await readdir(dir).catch(() => [] as string[]);
  const removed: string[] = [];
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const pid = /^(\d+)-/.exec(name.slice(prefix.length))?.[1];
    if (pid === undefined || processAlive(Number(pid))) continue;
    await rm(join(dir, name), { recursive: true, force: true });
    removed.push(join(dir, name));
  }
  return removed.sort();
}

/**
 * A file-system error that names its path and what to change: Node's messages for a failed write (ENOSPC, EDQUOT)
 * name no path at all, and EACCES/EROFS names one but not what to do. Other errors pass through unchanged.
 */
export function explainFsError(err: unknown, path: string | undefined): unknown {
  const e = err as NodeJS.ErrnoException;
  if (!(err instanceof Error) || typeof e.code !== 'string' || path === undefined) return err;
  const hint: Record<string, string> = {
    ENOSPC: 'the disk is full: free space there',
    EDQUOT: 'the disk quota is used up: free space there',
    EACCES: 'permission denied: let this user write there (or run where it may)',
    EPERM: 'permission denied: let this user write there (or run where it may)',
    EROFS: 'the file system is read-only: run on a writable copy',
  };
  const why = hint[e.code];
  if (!why) return err;
  const out = new Error(`cannot write ${path}: ${why} (${e.code})`) as NodeJS.ErrnoException;
  out.code = e.code;
  out.syscall = e.syscall ?? 'write';
  out.path = path;
  return out;
}

/** One file, atomically; returns whether it changed. */
export async function writeFileAtomic(path: string, content: string | Uint8Array): Promise<boolean> {
  const r = await writeFilesAtomic([{ path, content }]);
  return r.written.length === 1;
}
