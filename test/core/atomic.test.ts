/** Generated files are written whole or not at all, even when a rename fails half-way. */
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { explainFsError, recoverWrites, removeLeftoverTemps, writeFilesAtomic } from '../../core/atomic.js';
import { reportError } from '../../cli/exit-codes.js';
import { asWriter } from '../../core/writer.js';

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

describe('recoverWrites: a write set a killed run left in its journal is made all-new or all-old', () => {
  /** A journal as writeFilesAtomic leaves it when killed, with the files it names in the state of that moment. */
  async function killed(phase: 'staging' | 'renaming' | 'undoing', state: Record<string, string>, files: string[]): Promise<string> {
    const dir = await folder();
    for (const [name, text] of Object.entries(state)) await writeFile(join(dir, name), text);
    const journal = join(dir, '.leastpath', 'journal.json');
    await mkdir(join(dir, '.leastpath'));
    const entries = files.map((f) => ({ path: `../${f}`, tmp: `../${f}.tmp-1-0000abcd`, backup: `../${f}.tmp-1-0000abcd.prev` }));
    await writeFile(journal, JSON.stringify({ phase, files: entries }));
    return dir;
  }
  const contents = async (dir: string) =>
    Object.fromEntries(
      await Promise.all(
        (await readdir(dir))
          .filter((n) => n !== '.leastpath')
          .sort()
          .map(async (n) => [n, await readFile(join(dir, n), 'utf8')]),
      ),
    );

  it('killed between renames: the rest of the temp files are renamed (forward), backups and journal removed', async () => {
    const dir = await killed(
      'renaming',
      {
        'a.yaml': 'new a\n',
        'a.yaml.tmp-1-0000abcd.prev': 'old a\n',
        'b.yaml': 'old b\n',
        'b.yaml.tmp-1-0000abcd': 'new b\n',
        'c.yaml.tmp-1-0000abcd': 'new c\n',
      },
      ['a.yaml', 'b.yaml', 'c.yaml'],
    );
    const r = await recoverWrites(join(dir, '.leastpath', 'journal.json'));
    expect(r).toEqual({ rolled: 'forward', files: ['a.yaml', 'b.yaml', 'c.yaml'].map((f) => join(dir, f)) });
    expect(await contents(dir)).toEqual({ 'a.yaml': 'new a\n', 'b.yaml': 'new b\n', 'c.yaml': 'new c\n' });
    expect(await readdir(dir)).not.toContain('.leastpath');
    expect(await recoverWrites(join(dir, '.leastpath', 'journal.json'))).toBeNull();
  });

  it('killed while staging (no rename yet): the temp files go, every file stays old', async () => {
    const dir = await killed('staging', { 'a.yaml': 'old a\n', 'a.yaml.tmp-1-0000abcd': 'half of new' }, ['a.yaml', 'b.yaml']);
    expect((await recoverWrites(join(dir, '.leastpath', 'journal.json')))?.rolled).toBe('back');
    expect(await contents(dir)).toEqual({ 'a.yaml': 'old a\n' });
  });

  it('killed while undoing a failed rename, or a rename that fails now: the originals come back, new files go', async () => {
    const undoing = await killed(
      'undoing',
      { 'a.yaml': 'new a\n', 'a.yaml.tmp-1-0000abcd.prev': 'old a\n', 'b.yaml': 'new b\n', 'c.yaml.tmp-1-0000abcd': 'new c\n' },
      ['a.yaml', 'b.yaml', 'c.yaml'],
    );
    expect((await recoverWrites(join(undoing, '.leastpath', 'journal.json')))?.rolled).toBe('back');
    expect(await contents(undoing)).toEqual({ 'a.yaml': 'old a\n' });

    const blocked = await killed(
      'renaming',
      { 'a.yaml': 'new a\n', 'a.yaml.tmp-1-0000abcd.prev': 'old a\n', 'b.yaml.tmp-1-0000abcd': 'new b\n' },
      ['a.yaml', 'b.yaml'],
    );
    await mkdir(join(blocked, 'b.yaml', 'x'), { recursive: true });
    expect((await recoverWrites(join(blocked, '.leastpath', 'journal.json')))?.rolled).toBe('back');
    expect(await readFile(join(blocked, 'a.yaml'), 'utf8')).toBe('old a\n');
    expect((await readdir(blocked)).sort()).toEqual(['a.yaml', 'b.yaml']);
  });

  it("a completed write leaves no journal; temp files of a dead process are removed, a live one's kept", async () => {
    const dir = await folder();
    const journal = join(dir, '.leastpath', 'journal.json');
    await writeFilesAtomic([{ path: join(dir, 'a.yaml'), content: 'a\n' }], { journal });
    expect(await readdir(dir)).toEqual(['a.yaml']);
    const dead = spawn(process.execPath, ['-e', '0']);
    await new Promise((r) => dead.on('exit', r));
    await writeFile(join(dir, `a.yaml.tmp-${dead.pid}-0123abcd`), 'x');
    await writeFile(join(dir, `a.yaml.tmp-${dead.pid}-0123abcd.prev`), 'x');
    await writeFile(join(dir, `a.yaml.tmp-${process.pid}-0123abcd`), 'x');
    expect(await removeLeftoverTemps(dir)).toEqual(
      [`a.yaml.tmp-${dead.pid}-0123abcd`, `a.yaml.tmp-${dead.pid}-0123abcd.prev`].map((f) => join(dir, f)),
    );
    expect((await readdir(dir)).sort()).toEqual(['a.yaml', `a.yaml.tmp-${process.pid}-0123abcd`]);
  });
});

describe('explainFsError: a failed write names its path and what to change', () => {
  it("ENOSPC (a real one: every write to /dev/full) names the file, which Node's own message does not", async () => {
    const err = await writeFile('/dev/full', 'x').catch((e: unknown) => e);
    expect((err as Error).message).not.toContain('web.yaml');
    const lines: string[] = [];
    reportError(explainFsError(err, 'observed/dev/web.yaml'), (l) => lines.push(l));
    expect(lines).toEqual([
      'leastpath: cannot use a file or folder: cannot write observed/dev/web.yaml: the disk is full: free space there (ENOSPC)',
    ]);
  });

  it('other errors pass through unchanged', () => {
    const e = Object.assign(new Error('EISDIR: illegal operation on a directory'), { code: 'EISDIR', syscall: 'rename' });
    expect(explainFsError(e, 'a.yaml')).toBe(e);
  });
});

describe('a journal leastpath did not write', () => {
  it('stops the writing command at the file, touching nothing', async () => {
    const root = await folder();
    await mkdir(join(root, '.leastpath'));
    await writeFile(join(root, '.leastpath/journal.json'), '{ not json');
    await writeFile(join(root, 'x.yaml'), 'x\n');
    const lines: string[] = [];
    const code = reportError(
      await asWriter(root, 'synth', { stderr: () => undefined }, () => Promise.resolve()).catch((e: unknown) => e),
      (l) => lines.push(l),
    );
    expect(code).toBe(2);
    expect(lines).toEqual([
      '.leastpath/journal.json:1:1: <root>: not a write journal leastpath wrote (it cannot be read as one); check the files around it, then delete it',
    ]);
    expect((await readdir(root)).sort()).toEqual(['.leastpath', 'x.yaml']);
    expect(await readdir(join(root, '.leastpath'))).toEqual(['journal.json']);
  });
});
