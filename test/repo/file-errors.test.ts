/** What the file system refuses is told as such (exit 2), not as an internal error of leastpath. */
import { cp, mkdtemp, readdir, writeFile } from 'node:fs/promises';
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
    const code = await main(['--root', dir, 'synth', '--out', 'outfile'], { stdout: () => undefined, stderr: (l) => err.push(l) }, { LEASTPATH_TODAY: '2026-11-23' });
    expect(code).toBe(2);
    const text = err.join('\n');
    expect(text).toMatch(/^leastpath: cannot use a file or folder: E[A-Z]+: .*outfile/);
    expect(text).not.toContain('internal error');
    expect((await readdir(dir)).sort()).toEqual(['observed', 'outfile', 'policies']);
  });
});
