/**
 * `leastpath run` validates the repository twice (before observe, and after it, as observe rewrites observed/) and
 * resolves each environment once in each validation (rule synth-ready); plan, synth and report take the second
 * validation's resolutions. The validation and the resolver are wrapped by vi.mock, which calls the real ones and
 * counts the calls.
 */
import { cp, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { main } from '../../cli/main.js';
import { resolveEnvironment } from '../../generators/resolve.js';
import { checkRepo } from '../../validate/check-repo.js';

vi.mock('../../validate/check-repo.js', async (importOriginal) => {
  const actual = await importOriginal<typeof import('../../validate/check-repo.js')>();
  return { ...actual, checkRepo: vi.fn(actual.checkRepo) };
});
vi.mock('../../generators/resolve.js', async (importOriginal) => {
  const actual = await importOriginal<typeof import('../../generators/resolve.js')>();
  return { ...actual, resolveEnvironment: vi.fn(actual.resolveEnvironment) };
});

const root = join(import.meta.dirname, '..', '..');
const ENV = { LEASTPATH_TODAY: '2026-11-23' };
const quiet = { stdout: () => undefined, stderr: () => undefined };

describe('leastpath run: loads and resolutions', () => {
  it('loads twice, resolves each environment once per load, and plans, synthesizes and reports on the observed/ files observe wrote', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'leastpath-run-loads-'));
    for (const d of ['policies', 'examples/flow-logs', 'examples/dns-logs']) await cp(join(root, d), join(dir, d), { recursive: true });
    // No observed/ yet: a plan, stack or report made from the load before observe would have no observed rules.
    const code = await main(['--root', dir, 'run', '--to', '2026-11-21'], quiet, ENV);
    expect(code).toBe(0);
    expect(vi.mocked(checkRepo)).toHaveBeenCalledTimes(2);
    // once in each validation (rule synth-ready: what plan or synth would refuse), whose resolution plan, synth and report take
    expect(
      vi
        .mocked(resolveEnvironment)
        .mock.calls.map(([input]) => input.env.name)
        .sort(),
    ).toEqual(['dev', 'dev', 'prod', 'prod', 'stg', 'stg']);

    // The stacks of a synth on its own, now that observed/ is written, are the ones run wrote.
    expect(await main(['--root', dir, 'synth', '--out', 'again'], quiet, ENV)).toBe(0);
    for (const env of ['dev', 'prod', 'stg']) {
      const stack = `stacks/${env}/cdk.tf.json`;
      expect(await readFile(join(dir, 'cdktf.out', stack), 'utf8')).toBe(await readFile(join(dir, 'again', stack), 'utf8'));
    }
    await rm(dir, { recursive: true, force: true });
  });

  it("plan and synth on their own validate once and take the validation's resolutions: each environment is resolved once", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'leastpath-plan-loads-'));
    for (const d of ['policies', 'observed']) await cp(join(root, d), join(dir, d), { recursive: true });
    const resolvedNames = () =>
      vi
        .mocked(resolveEnvironment)
        .mock.calls.map(([input]) => input.env.name)
        .sort();
    vi.mocked(checkRepo).mockClear();
    vi.mocked(resolveEnvironment).mockClear();
    expect(await main(['--root', dir, 'plan', '--env', 'dev', '--format', 'json'], quiet, ENV)).toBe(0);
    expect(vi.mocked(checkRepo)).toHaveBeenCalledTimes(1);
    expect(resolvedNames()).toEqual(['dev']);

    vi.mocked(checkRepo).mockClear();
    vi.mocked(resolveEnvironment).mockClear();
    expect(await main(['--root', dir, 'synth'], quiet, ENV)).toBe(0);
    expect(vi.mocked(checkRepo)).toHaveBeenCalledTimes(1);
    expect(resolvedNames()).toEqual(['dev', 'prod', 'stg']);
    await rm(dir, { recursive: true, force: true });
  });
});
