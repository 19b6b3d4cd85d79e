import { readdir, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../cli/main.js';
import { exampleCopy as copyOfExample, observedFiles } from '../example-copy.js';

const exampleCopy = () => copyOfExample('leastpath-run-');

describe('leastpath run (npm start)', () => {
  it('runs the whole pipeline over the example and leaves the committed observed/ byte for byte as it is', async () => {
    const dir = await exampleCopy();
    const before = await observedFiles(dir);
    const mtimes = await Promise.all([...before.keys()].map(async (f) => (await stat(join(dir, 'observed', f))).mtimeMs));
    const out: string[] = [];
    const err: string[] = [];
    const code = await main(
      ['--root', dir, 'run', '--to', '2026-11-21'],
      { stdout: (s) => out.push(s), stderr: (l) => err.push(l) },
      { LEASTPATH_TODAY: '2026-11-23' },
    );
    expect(err).toEqual([]);
    expect(code).toBe(0);
    expect(out.join('')).toMatch(/observe dev: 2026-11-08 \.\. 2026-11-21 \(duckdb\), 40989 records from 64 files/);
    expect(out.join('')).toMatch(/observe dev[\s\S]*observe stg[\s\S]*observe prod/);
    expect(await observedFiles(dir)).toEqual(before);
    const after = await Promise.all([...before.keys()].map(async (f) => (await stat(join(dir, 'observed', f))).mtimeMs));
    expect(after).toEqual(mtimes);
  });

  it('observe from scratch writes exactly the committed files', async () => {
    const dir = await exampleCopy();
    const committed = await observedFiles(dir);
    await rm(join(dir, 'observed'), { recursive: true });
    for (const env of ['dev', 'stg', 'prod']) {
      const code = await main(
        ['--root', dir, 'observe', '--env', env, '--to', '2026-11-21'],
        { stdout: () => undefined, stderr: () => undefined },
        { LEASTPATH_TODAY: '2026-11-23' },
      );
      expect(code).toBe(0);
    }
    expect(await observedFiles(dir)).toEqual(committed);
  });

  it('a LEASTPATH_TODAY that is no real date is a usage error (exit 2) and nothing runs', async () => {
    const dir = await exampleCopy();
    const committed = await observedFiles(dir);
    const err: string[] = [];
    const code = await main(
      ['--root', dir, 'run', '--to', '2026-11-21'],
      { stdout: () => undefined, stderr: (l) => err.push(l) },
      { LEASTPATH_TODAY: '2026-02-30' },
    );
    expect(code).toBe(2);
    expect(err.join('\n')).toContain('LEASTPATH_TODAY must be a date YYYY-MM-DD, got "2026-02-30"');
    expect(await observedFiles(dir)).toEqual(committed);
  });

  it('a run whose last environment fails to observe leaves every observed/ file as it was, the earlier ones too', async () => {
    const dir = await exampleCopy();
    const committed = await observedFiles(dir);
    // prod, observed last, has a truncated gzip; dev and stg would be rewritten for the moved window on their own.
    const prodLogs = join(dir, 'examples', 'flow-logs', 'prod');
    const gz = (await readdir(prodLogs, { recursive: true })).filter((f) => f.endsWith('.log.gz')).sort();
    const victim = join(prodLogs, gz[gz.length - 1]!);
    const { writeFile } = await import('node:fs/promises');
    await writeFile(victim, (await readFile(victim)).subarray(0, 5000));
    const err: string[] = [];
    const code = await main(
      ['--root', dir, 'run', '--to', '2026-11-22'],
      { stdout: () => undefined, stderr: (l) => err.push(l) },
      { LEASTPATH_TODAY: '2026-11-23' },
    );
    expect(code).toBe(2);
    expect(err.join('\n')).toContain('truncated or corrupt gzip');
    expect(await observedFiles(dir)).toEqual(committed);
    expect((await readdir(join(dir, 'observed'), { recursive: true })).filter((f) => f.includes('.tmp-'))).toEqual([]);
    // The same moved window, observed without the broken file, does rewrite dev's files: the test above is not vacuous.
    await rm(victim);
    expect(
      await main(
        ['--root', dir, 'observe', '--env', 'dev', '--to', '2026-11-22'],
        { stdout: () => undefined, stderr: () => undefined },
        { LEASTPATH_TODAY: '2026-11-23' },
      ),
    ).toBe(0);
    expect(await observedFiles(dir)).not.toEqual(committed);
  });

  it('a hand-edited, invalid observed file does not stop the run: observe rewrites it, and says so', async () => {
    const dir = await exampleCopy();
    const committed = await observedFiles(dir);
    const file = join(dir, 'observed', 'stg', 'web.yaml');
    const { writeFile } = await import('node:fs/promises');
    await writeFile(file, committed.get('stg/web.yaml')!.toString('utf8').replace('environment: stg', 'environment: prod'));
    const out: string[] = [];
    const err: string[] = [];
    const code = await main(
      ['--root', dir, 'run', '--to', '2026-11-21'],
      { stdout: (s) => out.push(s), stderr: (l) => err.push(l) },
      { LEASTPATH_TODAY: '2026-11-23' },
    );
    expect(code, err.join('\n')).toBe(0);
    expect(err.join('\n')).toContain('observed/stg/web.yaml:3:14: environment: says "prod" but the folder is observed/stg');
    expect(out.join('')).toContain('validate: 3 environment(s), 0 warning(s), 1 invalid observed file(s) that observe rewrites');
    expect(out.join('')).toContain(
      'observed/stg/web.yaml: was invalid; rewritten from the flow logs, its earlier destinations not retained',
    );
    expect(await observedFiles(dir)).toEqual(committed);
  });
});
