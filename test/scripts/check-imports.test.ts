/** `npm run check:imports`: import cycles and imports that run up the layer order fail, naming file and line. */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { checkImports } from '../../scripts/check-imports.js';

const run = promisify(execFile);
const dirs: string[] = [];
afterAll(async () => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

/** A folder holding the given files (path relative to it -> text). */
async function tree(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'leastpath-imports-'));
  dirs.push(dir);
  for (const [path, text] of Object.entries(files)) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), text);
  }
  return dir;
}

/** The findings as the script prints them. */
async function lines(dir: string): Promise<string[]> {
  return (await checkImports(dir)).findings.map((f) => `${f.file}:${f.line}:${f.col}: ${f.path}: ${f.message}`);
}

const CLEAN = {
  'core/text.ts': 'export function upper(s: string): string {\n  return s.toUpperCase();\n}\n',
  'model/types.ts': "import { upper } from '../core/text.js';\nexport type Name = string;\nexport const A = upper('a');\n",
  'observe/read.ts':
    "import type { Name } from '../model/types.js';\nimport { upper } from '../core/text.js';\nexport const n: Name = upper('x');\n",
  'cli/main.ts': "export async function main(): Promise<void> {\n  await import('../observe/read.js');\n}\n",
  // Tests, dependencies and hidden folders are not leastpath's layers, whatever they import.
  'test/a.test.ts': "import '../cli/main.js';\nimport './b.js';\n",
  'test/b.ts': "import './a.test.js';\n",
  'node_modules/x/index.ts': "import '../../cli/main.js';\n",
};

describe('checkImports', () => {
  it('passes a tree whose imports all point down or stay in their folder', async () => {
    expect(await checkImports(await tree(CLEAN))).toEqual({ files: 4, findings: [] });
  });

  it('names each cycle with the line of every step; a type-only import and a dynamic import() count', async () => {
    const dir = await tree({
      ...CLEAN,
      'observe/a.ts': "import { b } from './b.js';\nexport const a = b + 1;\n",
      'observe/b.ts': "\nimport type { Name } from './c.js';\nexport const b = 1;\nexport type N = Name;\n",
      'observe/c.ts': "export type Name = string;\nexport async function later(): Promise<unknown> {\n  return import('./b.js');\n}\n",
      'model/self.ts': "export * from './self.js';\n",
    });
    expect(await lines(dir)).toEqual([
      'model/self.ts:1:15: ./self.js: import cycle: model/self.ts:1 -> model/self.ts',
      'observe/b.ts:2:27: ./c.js: import cycle: observe/b.ts:2 -> observe/c.ts:3 -> observe/b.ts',
    ]);
  });

  it('prints the whole circle when it is larger than the shortest cycle through its first file', async () => {
    const dir = await tree({
      'core/a.ts': "import './b.js';\n",
      'core/b.ts': "import './c.js';\nimport './a.js';\n",
      'core/c.ts': "import './b.js';\n",
    });
    expect(await lines(dir)).toEqual([
      'core/a.ts:1:8: ./b.js: import cycle: core/a.ts:1 -> core/b.ts:2 -> core/a.ts (3 files tied in this circle: core/a.ts, core/b.ts, core/c.ts)',
    ]);
  });

  it("follows a folder's index: `..` and a path without extension", async () => {
    const dir = await tree({
      'core/index.ts': "export { x } from './sub/x.js';\n",
      'core/sub/x.ts': "import '..';\nexport const x = 1;\n",
      'core/up.ts': "import '../model';\n",
      'model/index.ts': 'export const m = 1;\n',
    });
    expect(await lines(dir)).toEqual([
      'core/index.ts:1:19: ./sub/x.js: import cycle: core/index.ts:1 -> core/sub/x.ts:1 -> core/index.ts',
      'core/up.ts:1:8: ../model: upward import: core/ (layer 1) may not import model/index.ts (model/, layer 2)',
    ]);
  });

  it('names an upward import, type-only or re-exported, and a folder that has no layer', async () => {
    const dir = await tree({
      ...CLEAN,
      'model/read.ts': "import type { Name } from '../observe/read.js';\nexport type N = Name;\n",
      'core/all.ts': "export { main } from '../cli/main.js';\n",
      'core/typed.ts': "export type M = typeof import('../model/types.js');\n",
      'extras/x.ts': 'export const x = 1;\n',
    });
    expect(await lines(dir)).toEqual([
      'extras/x.ts:1:1: extras: folder extras/ has no layer: add it to LAYERS in scripts/check-imports.ts and docs/ARCHITECTURE.md',
      'core/all.ts:1:22: ../cli/main.js: upward import: core/ (layer 1) may not import cli/main.ts (cli/, layer 10)',
      'core/typed.ts:1:31: ../model/types.js: upward import: core/ (layer 1) may not import model/types.ts (model/, layer 2)',
      'model/read.ts:1:27: ../observe/read.js: upward import: model/ (layer 2) may not import observe/read.ts (observe/, layer 3)',
    ]);
  });
});

describe('npm run check:imports', () => {
  const script = join(import.meta.dirname, '..', '..', 'scripts', 'check-imports.ts');
  const node = (dir: string) => run(process.execPath, ['--import', import.meta.resolve('tsx'), script], { cwd: dir });

  it('exits 0 on a clean tree and 1 on a finding, which it prints with the layer order', async () => {
    const clean = await node(await tree(CLEAN));
    expect(clean.stdout).toBe('check:imports: 4 file(s), 0 finding(s)\n');
    const bad = await tree({ ...CLEAN, 'core/up.ts': "import '../model/types.js';\n" });
    const failed = await node(bad).then(
      () => undefined,
      (e: { code: number; stdout: string; stderr: string }) => e,
    );
    expect(failed?.code).toBe(1);
    expect(failed?.stderr).toBe(
      'core/up.ts:1:8: ../model/types.js: upward import: core/ (layer 1) may not import model/types.ts (model/, layer 2)\n' +
        'layers, bottom up: core/ < model/ < observe/ < generators/ < validate/ < stacks/ < verify/ < propose/ < ask/ < cli/ < examples/ bench/ scripts/ root files\n',
    );
    expect(failed?.stdout).toBe('check:imports: 5 file(s), 1 finding(s)\n');
  }, 60_000);
});
