import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../cli/main.js';

const root = join(import.meta.dirname, '..', '..');

describe('leastpath --version', () => {
  it("prints package.json's version on stdout and exits 0, for --version and -V", async () => {
    const { version } = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as { version: string };
    for (const flag of ['--version', '-V']) {
      let out = '';
      const err: string[] = [];
      const code = await main([flag], { stdout: (s) => (out += s), stderr: (l) => err.push(l) }, {});
      expect(code, flag).toBe(0);
      expect(out, flag).toBe(`${version}\n`);
      expect(err, flag).toEqual([]);
    }
  });
});
