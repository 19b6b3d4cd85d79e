/**
 * `npm pack` yields a CLI that runs outside this repository. The tarball is packed for real and unpacked into an
 * empty folder's node_modules/leastpath, as npm would; its runtime dependencies (the `dependencies` of
 * package.json, nothing else) are linked there from this checkout's install, since no registry is reachable in
 * tests. Then `leastpath run` runs from the unpacked bin on a copy of the example organisation. `--ignore-scripts`
 * packs the dist/ built by `npm ci`/`npm run build` (packing would otherwise rebuild it).
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { copyExample } from '../example-copy.js';
import { afterAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = join(import.meta.dirname, '..', '..');
let dir: string | undefined;
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('npm pack', () => {
  it('packs dist/, bin, schemas and data, and the unpacked CLI runs the example from an empty folder', async () => {
    dir = await mkdtemp(join(tmpdir(), 'leastpath-pack-'));
    const packed = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], {
      cwd: root,
      env: { ...process.env, npm_config_loglevel: 'error' },
    });
    const [{ filename, files }] = JSON.parse(packed.stdout) as [{ filename: string; files: { path: string }[] }];
    const paths = files.map((f) => f.path);
    for (const needed of [
      'bin/leastpath.js',
      'dist/cli/main.js',
      'dist/stacks/render.js',
      'schemas/environment.schema.json',
      'schemas/aws-services.json',
      'observe/data/aws-ip-ranges.json',
    ]) {
      expect(paths, needed).toContain(needed);
    }
    // Sources, tests and the example stay out: a tool dependency has no use for them.
    expect(
      paths.filter(
        (p) =>
          p.startsWith('test/') || p.startsWith('policies/') || p.startsWith('examples/') || (p.endsWith('.ts') && !p.endsWith('.d.ts')),
      ),
    ).toEqual([]);

    const consumer = join(dir, 'consumer');
    const pkg = join(consumer, 'node_modules', 'leastpath');
    await mkdir(pkg, { recursive: true });
    await run('tar', ['-xzf', join(dir, filename), '-C', pkg, '--strip-components=1']);
    const manifest = JSON.parse(await readFile(join(pkg, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    for (const dep of Object.keys(manifest.dependencies)) {
      const at = join(consumer, 'node_modules', dep);
      await mkdir(join(at, '..'), { recursive: true });
      await symlink(join(root, 'node_modules', dep), at, 'dir');
    }

    const repo = join(consumer, 'policies-repo');
    await copyExample(repo, { observed: false });
    const r = await run(process.execPath, [join(pkg, 'bin', 'leastpath.js'), '--root', repo, 'run', '--to', '2026-11-21'], {
      cwd: consumer,
      env: { ...process.env, LEASTPATH_TODAY: '2026-11-23' },
    }).catch((err: { code: number; stdout: string; stderr: string }) => err);
    expect('code' in r ? r.code : 0, 'stderr' in r ? r.stderr : '').toBe(0);
    // What the packed CLI wrote is what the repository's own run committed.
    for (const env of ['dev', 'prod', 'stg']) {
      for (const f of await readdir(join(root, 'observed', env))) {
        expect(await readFile(join(repo, 'observed', env, f), 'utf8'), `observed/${env}/${f}`).toBe(
          await readFile(join(root, 'observed', env, f), 'utf8'),
        );
      }
      expect(await readFile(join(repo, 'cdktf.out', 'stacks', env, 'cdk.tf.json'), 'utf8')).toBe(
        await readFile(join(root, 'test', 'scenarios', 'example', 'expected', `${env}.cdk.tf.json`), 'utf8'),
      );
    }
  }, 300_000);
});
