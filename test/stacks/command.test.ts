/** `runSynth`: a real repository in a temp folder, a fixture resolver, and the atomic writer. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { App } from 'cdktn';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { UsageError, ValidationFailed } from '../../core/errors.js';
import type { ResolvedEnvironment } from '../../generators/model.js';
import { resolveEnvironment } from '../../generators/resolve.js';
import { runSynth, type Resolver } from '../../cli/commands/synth.js';
import { StackError } from '../../stacks/guard-rails.js';
import { BASE, TODAY } from '../validate/org.js';
import { emptyEnv, group, removeTemps, richEnv, rule, tempDir } from './fixtures.js';

/** The validate tests' base organisation, with a second environment `stg` made from `dev`. */
async function repo(): Promise<string> {
  const root = await tempDir('leastpath-synth-repo-');
  const files: Record<string, string> = { ...BASE };
  for (const [rel, content] of Object.entries(BASE)) {
    files[rel.replace('policies/dev/', 'policies/stg/')] = content.replace('environment: dev', 'environment: stg');
  }
  for (const [rel, content] of Object.entries(files)) {
    await mkdir(dirname(join(root, rel)), { recursive: true });
    await writeFile(join(root, rel), content);
  }
  return root;
}

/** Resolves every environment to the rich fixture renamed, or to what `overrides` says. */
function fixtureResolver(overrides: Record<string, ResolvedEnvironment> = {}): Resolver {
  return ({ env }) => ({ resolved: overrides[env.name] ?? { ...richEnv(), environment: env.name }, findings: [] });
}

/** Every file under `dir` with its bytes, for before/after comparisons. */
async function snapshot(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) {
      const path = join(entry.parentPath, entry.name);
      out[path.slice(dir.length + 1)] = await readFile(path, 'utf8');
    }
  }
  return out;
}

afterEach(() => {
  vi.restoreAllMocks();
});
afterAll(removeTemps);

describe('environment.yaml state', () => {
  it('puts the stack state in that S3 bucket, key and region defaulted, locked by S3 itself; a bad bucket name is an error with its position', async () => {
    const root = await repo();
    const envFile = join(root, 'policies/dev/environment.yaml');
    const base = await readFile(envFile, 'utf8');
    // (the base has the route tables of the s3 gateway endpoint that one of the workloads uses)
    await writeFile(envFile, `${base}state: { bucket: acme-tfstate }\n`);
    await runSynth({ root, today: TODAY, env: 'dev', out: 'out' }, resolveEnvironment);
    const tf = JSON.parse(await readFile(join(root, 'out/stacks/dev/cdk.tf.json'), 'utf8')) as {
      terraform: { backend: unknown; required_version: string };
    };
    expect(tf.terraform.backend).toEqual({
      s3: { bucket: 'acme-tfstate', key: 'leastpath/dev.tfstate', region: 'eu-west-1', encrypt: true, use_lockfile: true },
    });
    expect(tf.terraform.required_version).toBe('>= 1.10.0');

    const line = base.split('\n').length;
    await writeFile(envFile, `${base}state: { bucket: Acme_State, key: /leading/slash }\n`);
    const err = await runSynth({ root, today: TODAY, env: 'dev', out: 'out' }, resolveEnvironment).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ValidationFailed);
    const lines = (err as ValidationFailed).findings.map((f) => `${f.file}:${f.line}:${f.col}: ${f.path}`);
    expect(lines).toEqual([
      `policies/dev/environment.yaml:${line}:18: state.bucket`,
      `policies/dev/environment.yaml:${line}:35: state.key`,
    ]);
  });
});

describe('runSynth', () => {
  it('writes DIR/stacks/<env>/cdk.tf.json for every environment and the manifest, and says what it wrote', async () => {
    const root = await repo();
    const r = await runSynth({ root, today: TODAY }, fixtureResolver());
    expect(r.environments).toEqual(['dev', 'stg']);
    expect(r.written).toEqual(['cdktf.out/manifest.json', 'cdktf.out/stacks/dev/cdk.tf.json', 'cdktf.out/stacks/stg/cdk.tf.json']);
    expect(r.unchanged).toEqual([]);
    const dev = JSON.parse(await readFile(join(root, 'cdktf.out/stacks/dev/cdk.tf.json'), 'utf8')) as {
      provider: { aws: { default_tags: { tags: { Environment: string } }[] }[] };
    };
    expect(dev.provider.aws[0]!.default_tags[0]!.tags.Environment).toBe('dev');
    // Nothing is left beside the output directory.
    expect((await readdir(root)).filter((f) => f.startsWith('.cdktf.out'))).toEqual([]);
  });

  it('does not rewrite unchanged files', async () => {
    const root = await repo();
    await runSynth({ root, today: TODAY }, fixtureResolver());
    const file = join(root, 'cdktf.out/stacks/dev/cdk.tf.json');
    const before = (await stat(file)).mtimeMs;
    await new Promise((r) => setTimeout(r, 20));
    const again = await runSynth({ root, today: TODAY }, fixtureResolver());
    expect(again.written).toEqual([]);
    expect(again.unchanged).toHaveLength(3);
    expect((await stat(file)).mtimeMs).toBe(before);
  });

  it('--env writes that stack only, leaves the others and the manifest alone', async () => {
    const root = await repo();
    await runSynth({ root, today: TODAY }, fixtureResolver());
    const stg = join(root, 'cdktf.out/stacks/stg/cdk.tf.json');
    const stgBefore = await readFile(stg, 'utf8');
    const audit = { ...richEnv(), mode: 'audit' as const };
    const r = await runSynth({ root, today: TODAY, env: 'dev' }, fixtureResolver({ dev: audit }));
    expect(r.written).toEqual(['cdktf.out/stacks/dev/cdk.tf.json']);
    expect(await readFile(stg, 'utf8')).toBe(stgBefore);
  });

  it('--out DIR writes there, relative to the root', async () => {
    const root = await repo();
    const r = await runSynth({ root, today: TODAY, env: 'stg', out: 'build/tf' }, fixtureResolver());
    expect(r.written).toEqual(['build/tf/stacks/stg/cdk.tf.json']);
    expect(r.out).toBe('build/tf');
  });

  it('refuses an --out inside policies/ or observed/, which every later command would read as input', async () => {
    const root = await repo();
    const before = await snapshot(join(root, 'policies'));
    for (const out of ['policies', 'policies/stacks', join(root, 'observed', 'x')]) {
      await expect(runSynth({ root, today: TODAY, out }, fixtureResolver()), out).rejects.toThrow(UsageError);
    }
    await expect(runSynth({ root, today: TODAY, out: 'policies/stacks' }, fixtureResolver())).rejects.toThrow(
      '--out policies/stacks is inside policies/, which leastpath reads as input',
    );
    expect(await snapshot(join(root, 'policies'))).toEqual(before);
    // A sibling whose name merely starts the same is fine.
    expect((await runSynth({ root, today: TODAY, env: 'stg', out: 'policies-tf' }, fixtureResolver())).written).toEqual([
      'policies-tf/stacks/stg/cdk.tf.json',
    ]);
  });

  it('stops on resolver errors and writes nothing', async () => {
    const root = await repo();
    const failing: Resolver = ({ env }) => ({
      resolved: { ...richEnv(), environment: env.name },
      findings: [
        {
          rule: 'quota',
          severity: 'error',
          file: `policies/${env.name}/workloads/web.yaml`,
          line: 1,
          col: 1,
          path: '<root>',
          message: 'over quota',
        },
      ],
    });
    await expect(runSynth({ root, today: TODAY }, failing)).rejects.toThrow(ValidationFailed);
    expect(await readdir(root)).not.toContain('cdktf.out');
  });

  it('an environment the stack refuses leaves an existing output byte-identical', async () => {
    const root = await repo();
    await runSynth({ root, today: TODAY }, fixtureResolver());
    const out = join(root, 'cdktf.out');
    const before = await snapshot(out);
    // dev renders fine (and differently from before); stg breaks a guard rail after dev was built.
    const open = emptyEnv({ environment: 'stg', groups: [group('web', [rule('web', { kind: 'cidr', cidr: '0.0.0.0/0' }, 'all')])] });
    await expect(runSynth({ root, today: TODAY }, fixtureResolver({ dev: { ...richEnv(), mode: 'audit' }, stg: open }))).rejects.toThrow(
      StackError,
    );
    expect(await snapshot(out)).toEqual(before);
    expect((await readdir(root)).filter((f) => f.startsWith('.cdktf.out'))).toEqual([]);
  });

  it('a failure in the middle of cdktf synth leaves an existing output byte-identical', async () => {
    const root = await repo();
    await runSynth({ root, today: TODAY }, fixtureResolver());
    const out = join(root, 'cdktf.out');
    const before = await snapshot(out);
    // cdktf has written part of the new output (one stack file, changed) when it fails.
    vi.spyOn(App.prototype, 'synth').mockImplementation(function (this: App) {
      mkdirSync(join(this.outdir, 'stacks/dev'), { recursive: true });
      writeFileSync(join(this.outdir, 'stacks/dev/cdk.tf.json'), '{"//": "half a file');
      throw new Error('disk full');
    });
    await expect(runSynth({ root, today: TODAY }, fixtureResolver({ dev: { ...richEnv(), mode: 'audit' } }))).rejects.toThrow('disk full');
    expect(await snapshot(out)).toEqual(before);
    expect((await readdir(root)).filter((f) => f.startsWith('.cdktf.out'))).toEqual([]);
  });

  it('refuses an environment name that cannot be a folder', async () => {
    const root = await repo();
    await expect(runSynth({ root, today: TODAY, env: '../x' }, fixtureResolver())).rejects.toThrow(/must match/);
  });
});
