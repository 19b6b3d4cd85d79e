/**
 * Writing generated files so that nothing is lost: every file goes to a temp file in its own folder first,
 * and only when all of them are written are they renamed into place. Unchanged files are not touched.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
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
  for (const s of staged) await rename(s.tmp, s.path);
  return { written: staged.map((s) => s.path), unchanged };
}

/** One file, atomically; returns whether it changed. */
export async function writeFileAtomic(path: string, content: string | Uint8Array): Promise<boolean> {
  const r = await writeFilesAtomic([{ path, content }]);
  return r.written.length === 1;
}
