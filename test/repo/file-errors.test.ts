/** What the file system refuses is told as such (exit 2), not as an internal error of leastpath. */
import { cp, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../cli/main.js';

const root = join(import.meta.dirname, '..', '..');

describe('file-system refusals', () => {
  it('synth --out naming a file: exit 2, the operation and the path, and no stack or temp file anywhere', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'leastpath-fs-errors-'));
    for (const d of ['policies', 'observed']) await cp(join(root, d), join(dir, d), { recursive: true });
    await writeFile(join(dir, 'outfile'), 'not a folder\n');
    const err: string[] = [];
    const code = await main(
      ['--root', dir, 'synth', '--out', 'outfile'],
      { stdout: () => undefined, stderr: (l) => err.push(l) },
      { LEASTPATH_TODAY: '2026-11-23' },
    );
    expect(code).toBe(2);
    const text = err.join('\n');
    expect(text).toMatch(/^leastpath: cannot use a file or folder: E[A-Z]+: .*outfile/);
    expect(text).not.toContain('internal error');
    expect((await readdir(dir)).sort()).toEqual(['observed', 'outfile', 'policies']);
  });

  it.each([
    ['observed/dev/web.yaml', 'an observed file (synth dropped its observed rules without a word)'],
    ['policies/dev/workloads/web.yaml', 'a workload file (its rules were dropped with a warning only)'],
  ])('a folder named %s, where %s belongs: an error naming it, in validate and synth', async (rel) => {
    const dir = await mkdtemp(join(tmpdir(), 'leastpath-fs-errors-'));
    for (const d of ['policies', 'observed']) await cp(join(root, d), join(dir, d), { recursive: true });
    await rm(join(dir, rel));
    await mkdir(join(dir, rel, 'inside'), { recursive: true });
    for (const args of [
      ['validate', '--env', 'dev'],
      ['synth', '--env', 'dev'],
    ]) {
      const err: string[] = [];
      const code = await main(
        ['--root', dir, ...args],
        { stdout: () => undefined, stderr: (l) => err.push(l) },
        { LEASTPATH_TODAY: '2026-11-23' },
      );
      expect(code).toBe(1);
      expect(err).toContain(
        `${rel}:1:1: <root>: is a folder, where leastpath reads a ${rel.startsWith('observed') ? 'observed' : 'workload'} file: move it away and put the YAML file in its place`,
      );
    }
    expect((await readdir(dir)).sort()).toEqual(['observed', 'policies']);
  });

  it('a --root that does not exist is said so, and the one-writer lock does not create it', async () => {
    const missing = join(await mkdtemp(join(tmpdir(), 'leastpath-fs-errors-')), 'no-such-repo');
    const err: string[] = [];
    const code = await main(
      ['--root', missing, 'synth'],
      { stdout: () => undefined, stderr: (l) => err.push(l) },
      { LEASTPATH_TODAY: '2026-11-23' },
    );
    expect(code).toBe(2);
    expect(err.join('\n')).not.toContain('internal error');
    await expect(readdir(missing)).rejects.toThrow('ENOENT');
  });
});
