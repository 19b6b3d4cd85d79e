/**
 * End-to-end scenarios as folders (conftest's tests/<scenario>/): `test/scenarios/<name>/scenario.json` says which
 * repository the scenario starts from, what runs through the real CLI first, and which outputs (a command's stdout
 * or a file it wrote) are compared byte for byte with the golden files under `<name>/expected/`; only
 * `npm run golden:update` rewrites those. `repository: "example"` is a copy of the example organisation.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../cli/main.js';
import { exampleCopy } from '../example-copy.js';
import { expectGoldenFile } from '../golden/golden.js';

interface Scenario {
  about: string;
  repository: 'example';
  /** LEASTPATH_TODAY of every command. */
  today: string;
  /** CLI arguments of the commands that run before anything is compared, in order; each must exit 0. */
  run: string[][];
  /** One test each: `stdout` of a command (which must exit 0), or a `file` of the repository, against `expected/<expected>`. */
  expect: ({ what: string; expected: string } & ({ stdout: string[] } | { file: string }))[];
}

const HERE = import.meta.dirname;
const names = readdirSync(HERE, { withFileTypes: true })
  .filter((e) => e.isDirectory())
  .map((e) => e.name)
  .sort();

async function cli(dir: string, today: string, args: string[]): Promise<string> {
  let out = '';
  const err: string[] = [];
  const code = await main(['--root', dir, ...args], { stdout: (s) => (out += s), stderr: (l) => err.push(l) }, { LEASTPATH_TODAY: today });
  expect(code, err.join('\n')).toBe(0);
  return out;
}

describe.each(names)('scenario %s', (name) => {
  const scenario = JSON.parse(readFileSync(join(HERE, name, 'scenario.json'), 'utf8')) as Scenario;
  let dir: string;

  beforeAll(async () => {
    // The one start there is today; a scenario with its own input/ folder would add its copy here.
    if (scenario.repository !== 'example') throw new Error(`${name}/scenario.json: repository must be "example"`);
    dir = await exampleCopy('leastpath-scenario-');
    for (const args of scenario.run) await cli(dir, scenario.today, args);
  });

  it.each(scenario.expect.map((e) => [e.what, e] as const))('%s', async (_what, e) => {
    const actual = 'stdout' in e ? await cli(dir, scenario.today, e.stdout) : await readFile(join(dir, e.file), 'utf8');
    await expectGoldenFile(join(HERE, name, 'expected', e.expected), actual);
  });
});
