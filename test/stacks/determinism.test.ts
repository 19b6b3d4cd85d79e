/** The same model gives the same bytes: across runs, input orders, working directories and machines. */
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { removeTemps, richEnv, shuffledEnv, synthText } from './fixtures.js';

afterAll(removeTemps);

describe('determinism', () => {
  it('two synths of one model are byte-identical, manifest included', async () => {
    const a = await synthText([richEnv(), { ...richEnv(), environment: 'prod' }]);
    const b = await synthText([richEnv(), { ...richEnv(), environment: 'prod' }]);
    expect(b.text).toBe(a.text);
    expect(await readFile(join(b.dir, 'manifest.json'), 'utf8')).toBe(await readFile(join(a.dir, 'manifest.json'), 'utf8'));
  });

  it.each([1, 2, 3, 4, 5])('shuffled input order (seed %i) gives the same JSON', async (seed) => {
    const base = await synthText([richEnv()]);
    const shuffled = await synthText([shuffledEnv(richEnv(), seed)]);
    expect(shuffled.text).toBe(base.text);
  });

  it('the order of environments does not matter', async () => {
    const dev = richEnv();
    const prod = { ...richEnv(), environment: 'prod' };
    const a = await synthText([dev, prod], 'prod');
    const b = await synthText([prod, dev], 'prod');
    expect(b.text).toBe(a.text);
    expect(await readFile(join(b.dir, 'manifest.json'), 'utf8')).toBe(await readFile(join(a.dir, 'manifest.json'), 'utf8'));
  });

  it('writes no absolute path of this machine, and does not depend on the working directory', async () => {
    const here = await synthText([richEnv()]);
    const previous = process.cwd();
    let elsewhere: Awaited<ReturnType<typeof synthText>>;
    try {
      process.chdir(homedir());
      elsewhere = await synthText([richEnv()]);
    } finally {
      process.chdir(previous);
    }
    expect(elsewhere.text).toBe(here.text);
    const manifest = await readFile(join(here.dir, 'manifest.json'), 'utf8');
    for (const text of [here.text, manifest]) {
      for (const path of [previous, homedir(), here.dir]) expect(text).not.toContain(path);
      expect(text).not.toMatch(/"\/(tmp|home|root|Users|work)\//);
    }
  });
});
