/**
 * A policies repository of its own, with leastpath installed as a dev dependency (linked into node_modules as npm
 * links an installed package, bin included): `npx leastpath --root .` works there, and so do the workflows' steps
 * with the CLI set as the README says (`npx --no-install leastpath`). Runs the built CLI (dist/, `npm run build`).
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { copyExample } from '../example-copy.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = join(import.meta.dirname, '..', '..');
let repo = '';

interface Workflow {
  jobs: Record<string, { steps?: { id?: string; name?: string; run?: string }[] }>;
}

async function step(file: string, job: string, match: (s: { id?: string; name?: string; run?: string }) => boolean): Promise<string> {
  const wf = parse(await readFile(join(root, '.github', 'workflows', file), 'utf8')) as Workflow;
  const found = wf.jobs[job]!.steps!.find(match);
  expect(found?.run, `${file} ${job}`).toBeDefined();
  return found!.run!;
}

/** Runs a workflow step's script in the policies repository, as the runner would (bash -e -o pipefail). */
function runStep(script: string, env: Record<string, string>) {
  return run('bash', ['-e', '-o', 'pipefail', '-c', script], {
    cwd: repo,
    env: {
      ...process.env,
      npm_config_offline: 'true',
      npm_config_update_notifier: 'false',
      LEASTPATH: 'npx --no-install leastpath',
      LEASTPATH_ROOT: '.',
      LEASTPATH_TODAY: '2026-11-23',
      ...env,
    },
    maxBuffer: 64 * 1024 * 1024,
  });
}

beforeAll(async () => {
  repo = join(await mkdtemp(join(tmpdir(), 'leastpath-policies-repo-')), 'my-network-policies');
  await copyExample(repo);
  const { version } = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as { version: string };
  await writeFile(join(repo, 'package.json'), `${JSON.stringify({ private: true, devDependencies: { leastpath: version } }, null, 2)}\n`);
  await mkdir(join(repo, 'node_modules', '.bin'), { recursive: true });
  await symlink(root, join(repo, 'node_modules', 'leastpath'), 'dir');
  await symlink(join('..', 'leastpath', 'bin', 'leastpath.js'), join(repo, 'node_modules', '.bin', 'leastpath'));
  const git = (...args: string[]) =>
    run('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.invalid', '-c', 'commit.gpgsign=false', ...args], { cwd: repo });
  await writeFile(join(repo, '.gitignore'), 'node_modules/\nnode_modules\ncdktf.out/\n');
  await git('init', '-q');
  await git('add', '-A');
  await git('commit', '-qm', 'policies');
});

afterAll(async () => {
  await rm(join(repo, '..'), { recursive: true, force: true });
});

describe('a policies repository with leastpath as a dev dependency', () => {
  it('npx leastpath --root . runs the installed CLI', async () => {
    const { version } = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as { version: string };
    expect((await runStep('npx --no-install leastpath --version', {})).stdout).toBe(`${version}\n`);
    const validate = await runStep('npx --no-install leastpath --root . validate --env dev', {});
    expect(validate.stderr).toContain('validate: environment dev: valid, 0 errors');
  });

  it("plan.yml's plan and synth steps work there: the plan in the job summary, the HTML page, the stack", async () => {
    const summary = join(repo, '..', 'summary.md');
    await writeFile(summary, '');
    await runStep(await step('plan.yml', 'plan', (s) => s.name === 'leastpath plan (job summary)'), {
      ENVIRONMENT: 'dev',
      GITHUB_STEP_SUMMARY: summary,
    });
    expect(await readFile(summary, 'utf8')).toMatch(/^### Plan for `dev` \(enforce\)\n\n\*\*This change would break /);
    expect(await readFile(join(repo, 'plan-dev.html'), 'utf8')).toMatch(/^<!DOCTYPE html>[\s\S]*<title>leastpath plan: dev<\/title>/);
    await runStep(await step('plan.yml', 'plan', (s) => s.run?.includes(' synth ') === true), { ENVIRONMENT: 'dev' });
    const stack = JSON.parse(await readFile(join(repo, 'cdktf.out', 'stacks', 'dev', 'cdk.tf.json'), 'utf8')) as { resource?: unknown };
    expect(stack.resource).toBeDefined();
  });

  it("observe.yml finds the repository's environments from policies/", async () => {
    const out = join(repo, '..', 'output');
    await writeFile(out, '');
    await runStep(await step('observe.yml', 'environments', (s) => s.id === 'list'), { GITHUB_OUTPUT: out });
    expect((await readFile(out, 'utf8')).trim()).toBe('list=["dev","prod","stg"]');
  });
});
