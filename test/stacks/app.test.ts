/**
 * A CDK CLI's synth (cdktn kept cdktf's file names) runs the app of cdktf.json with CDKTF_OUTDIR set; it must write what `leastpath synth`
 * writes. The app runs here from source (tsx) in a copy of the example repository.
 */
import { execFile } from 'node:child_process';
import { cp, mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { main } from '../../cli/main.js';

const root = join(import.meta.dirname, '..', '..');

describe('cdktf app entry', () => {
  it('writes the same stacks as leastpath synth', async () => {
    const cdktf = JSON.parse(await readFile(join(root, 'cdktf.json'), 'utf8')) as { app: string; output?: string };
    expect(cdktf.app).toBe('node dist/cli/cdktf-app.js');
    const dir = await mkdtemp(join(tmpdir(), 'leastpath-app-'));
    for (const d of ['policies', 'observed']) await cp(join(root, d), join(dir, d), { recursive: true });
    const env = { ...process.env, LEASTPATH_TODAY: '2026-11-23', CDKTF_OUTDIR: join(dir, 'by-cdktf') };
    // tsx is resolved from this repository, not from the copy the app runs in.
    const app = await promisify(execFile)(process.execPath, ['--import', import.meta.resolve('tsx'), join(root, 'cli', 'cdktf-app.ts')], {
      cwd: dir,
      env,
    });
    // No deprecation noise from the renderer (cdktf 0.21 printed DEP0044 util.isArray on every synth on Node 22+).
    expect(app.stderr).not.toMatch(/DeprecationWarning|DEP0\d+/);
    const code = await main(
      ['--root', dir, 'synth', '--out', 'by-leastpath'],
      { stdout: () => undefined, stderr: () => undefined },
      { LEASTPATH_TODAY: '2026-11-23' },
    );
    expect(code).toBe(0);
    for (const f of ['manifest.json', 'stacks/dev/cdk.tf.json', 'stacks/stg/cdk.tf.json', 'stacks/prod/cdk.tf.json']) {
      expect(await readFile(join(dir, 'by-cdktf', f), 'utf8'), f).toBe(await readFile(join(dir, 'by-leastpath', f), 'utf8'));
    }
  });
});
