/**
 * Writing generated files so that nothing is lost: every file goes to a temp file in its own folder first,
 * and only when all of them are written are they renamed into place. Unchanged files are not touched. Should a
 * rename fail (a folder where a file should be, a read-only folder), the files already renamed are put back as
 * they were and the temp files removed: the set is written whole or not at all.
 */
import { randomBytes } from 'node:crypto';
import { copyFile, link, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

export interface PlannedFile {
  path: string;
  content: string | Uint8Array;
}

export interface WriteResult {
  written: string[];
  unchanged: string[];
}

/** Writes all files or none: temp files first, renames last; files whose bytes are unchanged are skipped. */
export async function writeFilesAtomic(files: readonly PlannedFile[]): Promise<WriteResult> {
  const staged: { tmp: string; path: string }[] = [];
  const unchanged: string[] = [];
  try {
    for (const f of files) {
      const next = typeof f.content === 'string' ? Buffer.from(f.content, 'utf8') : Buffer.from(f.content);
      const prev = await readFile(f.path).catch(() => undefined);
      if (prev && prev.equals(next)) {
        unchanged.push(f.path);
        continue;
      }
      await mkdir(dirname(f.path), { recursive: true });
      const tmp = `${f.path}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
      staged.push({ tmp, path: f.path });
      await writeFile(tmp, next);
    }
  } catch (err) {
    await Promise.all(staged.map((s) => rm(s.tmp, { force: true })));
    throw err;
  }
  await commit(staged);
  return { written: staged.map((s) => s.path), unchanged };
}

/**
 * Renames the temp files into place. Each replaced file is kept under a second name (a hard link, else a copy)
 * until every rename succeeded; on a failure the replaced files come back, new ones go, and so do the temp files.
 */
async function commit(staged: readonly { tmp: string; path: string }[]): Promise<void> {
  const done: { path: string; backup: string | null }[] = [];
  const backups: string[] = [];
  try {
    for (const s of staged) {
      const backup = `${s.tmp}.prev`;
      const kept = await link(s.path, backup).then(
        () => true,
        (err: NodeJS.ErrnoException) => (err.code === 'ENOENT' ? false : copyFile(s.path, backup).then(() => true)),
      );
      if (kept) backups.push(backup);
      await rename(s.tmp, s.path);
      done.push({ path: s.path, backup: kept ? backup : null });
    }
  } catch (err) {
    for (const d of done.reverse()) await (d.backup ? rename(d.backup, d.path) : rm(d.path, { force: true })).catch(() => undefined);
    await Promise.all([...staged.map((s) => s.tmp), ...backups].map((f) => rm(f, { force: true })));
    const failed = staged[done.length];
    if (err instanceof Error && failed) err.message = `${err.message} (writing ${failed.path}; nothing was written)`;
    throw err;
  }
  await Promise.all(backups.map((f) => rm(f, { force: true })));
}

/** One file, atomically; returns whether it changed. */
export async function writeFileAtomic(path: string, content: string | Uint8Array): Promise<boolean> {
  const r = await writeFilesAtomic([{ path, content }]);
  return r.written.length === 1;
}
