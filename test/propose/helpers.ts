/**
 * A small organisation (dev, and stg promoted from dev with 7 days of soak) in a git working copy, its bare
 * clone served by the fake GitHub, and the real CLI run against both.
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { main } from '../../cli/main.js';
import type { ObservedEgress } from '../../model/types.js';
import { compareEntries, renderObservedYaml } from '../../observe/assemble.js';
import { BASE, TODAY } from '../validate/org.js';
import { FakeGithub } from './fake-github.js';

export const TOKEN = 'ghs_leastpathTestToken0123456789SECRET';

export function observed(env: string, workload: string, egress: Partial<ObservedEgress>[]): string {
  return renderObservedYaml({
    workload,
    environment: env,
    window: { from: '2026-11-08', to: '2026-11-21' },
    source: { engine: 'duckdb', records: 100, skippedWindows: 0 },
    egress: egress
      .map((e) => ({
        destination: '203.0.113.10/32',
        protocol: 'tcp',
        port: 443,
        service: null,
        flows: 10,
        bytes: 1000,
        firstSeen: '2026-11-08',
        lastSeen: '2026-11-21',
        decidedBy: 'tcp-flags' as const,
        ...e,
      }))
      .sort(compareEntries),
    rejected: [],
  });
}

const STG_ENV = BASE['policies/dev/environment.yaml']!.replace('environment: dev', 'environment: stg')
  .replace('111111111111', '222222222222')
  .replace('vpc-0a1b2c3d', 'vpc-0b1b2c3d')
  .replace('flow-logs/dev', 'flow-logs/stg')
  .replace('mode: enforce', 'mode: enforce\npromoteFrom: dev\nsoakDays: 7');

export const ORG: Record<string, string> = {
  ...BASE,
  'observed/dev/web.yaml': observed('dev', 'web', [{ destination: '198.51.100.9/32', port: 8443, flows: 42 }]),
  'policies/stg/environment.yaml': STG_ENV,
  'policies/stg/workloads/web.yaml': BASE['policies/dev/workloads/web.yaml']!,
  'policies/stg/workloads/api.yaml': BASE['policies/dev/workloads/api.yaml']!,
};

export interface Fixture {
  work: string;
  gh: FakeGithub;
  env: NodeJS.ProcessEnv;
  cleanup: () => Promise<void>;
}

function git(cwd: string, args: string[], date: string): string {
  const d = `${date}T10:00:00+00:00`;
  return execFileSync('git', args, {
    cwd,
    encoding: 'utf8',
    env: {
      ...process.env,
      GIT_AUTHOR_NAME: 'Platform',
      GIT_AUTHOR_EMAIL: 'platform@example.com',
      GIT_COMMITTER_NAME: 'Platform',
      GIT_COMMITTER_EMAIL: 'platform@example.com',
      GIT_AUTHOR_DATE: d,
      GIT_COMMITTER_DATE: d,
    },
  }).trim();
}

export async function writeFiles(dir: string, files: Record<string, string | null>): Promise<void> {
  for (const [rel, content] of Object.entries(files)) {
    if (content === null) await rm(join(dir, rel), { force: true });
    else {
      await mkdir(dirname(join(dir, rel)), { recursive: true });
      await writeFile(join(dir, rel), content);
    }
  }
}

/** Commits `files` to the working copy's main (dated `date`) and pushes it to the fake's bare repository. */
export function commitAndPush(fx: Fixture, message: string, date: string): void {
  git(fx.work, ['add', '-A'], date);
  git(fx.work, ['commit', '-q', '-m', message], date);
  git(fx.work, ['push', '-q', 'origin', 'main'], date);
}

/**
 * The organisation committed on main (on `committed`, default 2026-11-01), a bare clone served by a fake GitHub;
 * `uncommitted` files are then written to the working tree only (new evidence, as observe leaves it).
 */
export async function fixture(
  opts: { committed?: Record<string, string | null>; uncommitted?: Record<string, string | null>; date?: string } = {},
): Promise<Fixture> {
  const root = await mkdtemp(join(tmpdir(), 'leastpath-propose-'));
  const work = join(root, 'work');
  const bare = join(root, 'origin.git');
  await mkdir(work);
  await writeFiles(work, { ...ORG, ...opts.committed });
  const date = opts.date ?? '2026-11-01';
  git(work, ['init', '-q', '-b', 'main'], date);
  git(work, ['add', '-A'], date);
  git(work, ['commit', '-q', '-m', 'the organisation'], date);
  git(root, ['clone', '-q', '--bare', work, bare], date);
  git(work, ['remote', 'add', 'origin', bare], date);
  await writeFiles(work, opts.uncommitted ?? {});
  const gh = new FakeGithub(bare, 'acme', 'network', TOKEN);
  await gh.start();
  return {
    work,
    gh,
    env: {
      LEASTPATH_TODAY: TODAY,
      GITHUB_TOKEN: TOKEN,
      GITHUB_REPOSITORY: 'acme/network',
      GITHUB_API_URL: gh.url,
      LEASTPATH_GITHUB_BACKOFF_MS: '5',
    },
    cleanup: async () => {
      await gh.stop();
      await rm(root, { recursive: true, force: true });
    },
  };
}

export interface Run {
  code: number;
  stdout: string;
  stderr: string[];
}

export const runs: Run[] = [];

export async function cli(fx: Fixture, args: string[], env: NodeJS.ProcessEnv = fx.env): Promise<Run> {
  let stdout = '';
  const stderr: string[] = [];
  const code = await main(
    ['--root', fx.work, ...args],
    { stdout: (t) => (stdout += t), stderr: (l) => stderr.push(l) },
    env,
    new Date('2000-01-01T00:00:00Z'),
  );
  const run = { code, stdout, stderr };
  runs.push(run);
  return run;
}
