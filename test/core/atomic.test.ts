/** Generated files are written whole or not at all, even when a rename fails half-way. */
import { mkdir, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeFilesAtomic } from '../../core/atomic.js';

async function folder(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'leastpath-atomic-'));
}

describe('writeFilesAtomic', () => {
  it('writes new and changed files, skips unchanged ones, and leaves no temp or backup file', async () => {
    const dir = await folder();
    await writeFile(join(dir, 'a.yaml'), 'old a\n');
    await writeFile(join(dir, 'b.yaml'), 'same b\n');
    const r = await writeFilesAtomic([
      { path: join(dir, 'a.yaml'), content: 'new a\n' },
      { path: join(dir, 'b.yaml'), content: 'same b\n' },
      { path: join(dir, 'sub', 'c.yaml'), content: 'c\n' },
    ]);
    expect(r).toEqual({ written: [join(dir, 'a.yaml'), join(dir, 'sub', 'c.yaml')], unchanged: [join(dir, 'b.yaml')] });
    expect(await readFile(join(dir, 'a.yaml'), 'utf8')).toBe('new a\n');
    expect(await readFile(join(dir, 'sub', 'c.yaml'), 'utf8')).toBe('c\n');
    expect((await readdir(dir, { recursive: true })).sort()).toEqual(['a.yaml', 'b.yaml', 'sub', join('sub', 'c.yaml')]);
  });

  it('a rename that fails after others succeeded puts every file back as it was, and names the file', async () => {
    const dir = await folder();
    await writeFile(join(dir, 'a.yaml'), 'old a\n');
    // A folder where the third file should go: its rename fails after a.yaml and b.yaml were renamed into place.
    await mkdir(join(dir, 'c.yaml', 'x'), { recursive: true });
    await expect(
      writeFilesAtomic([
        { path: join(dir, 'a.yaml'), content: 'new a\n' },
        { path: join(dir, 'b.yaml'), content: 'new b\n' },
        { path: join(dir, 'c.yaml'), content: 'c\n' },
      ]),
    ).rejects.toThrow(`(writing ${join(dir, 'c.yaml')}; nothing was written)`);
    expect(await readFile(join(dir, 'a.yaml'), 'utf8')).toBe('old a\n');
    expect((await readdir(dir, { recursive: true })).sort()).toEqual(['a.yaml', 'c.yaml', join('c.yaml', 'x')]);
  });
});
