/** The example organisation's synthesized stacks and plans, as golden files. */
import { cp, mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../cli/main.js';
import { expectGolden } from './golden.js';

const root = join(import.meta.dirname, '..', '..');
let dir: string;

async function cli(args: string[]): Promise<string> {
  let out = '';
  const err: string[] = [];
  const code = await main(['--root', dir, ...args], { stdout: (s) => (out += s), stderr: (l) => err.push(l) }, { LEASTPATH_TODAY: '2026-11-23' });
  expect(code, err.join('\n')).toBe(0);
  return out;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'leastpath-golden-'));
  for (const d of ['policies', 'observed']) await cp(join(root, d), join(dir, d), { recursive: true });
  await cli(['synth']);
});

describe.each(['dev', 'stg', 'prod'])('example %s', (env) => {
  it('Terraform JSON', async () => {
    await expectGolden(`example/${env}.cdk.tf.json`, await readFile(join(dir, 'cdktf.out', 'stacks', env, 'cdk.tf.json'), 'utf8'));
  });
  it('plan (markdown, as in pull requests)', async () => {
    await expectGolden(`example/${env}.plan.md`, await cli(['plan', '--env', env, '--format', 'md']));
  });
});
