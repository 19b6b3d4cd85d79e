/**
 * Rule tests run the real CLI over a small organisation written to a temp folder. `org()` starts from a valid
 * base (one environment `dev`, workloads web and api) and overrides or removes files.
 */
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { expect } from 'vitest';
import { main } from '../../cli/main.js';
import type { Finding } from '../../core/findings.js';
import type { ObservedDomain, ObservedEgress } from '../../model/types.js';
import { renderObservedYaml } from '../../observe/assemble.js';

export const TODAY = '2026-11-23';

export type Files = Record<string, string | null>;

/** api's s3 rule needs the gateway endpoint's route tables, or synth (and so validate) refuses the base. */
const ENDPOINTS = 'endpoints: { routeTables: [rtb-0a1b2c3d] }\n';

export const BASE: Record<string, string> = {
  'policies/dev/environment.yaml': `environment: dev
account: "111111111111"
region: eu-west-1
vpc: vpc-0a1b2c3d
vpcCidrs: [10.20.0.0/16]
mode: enforce
flowLogs:
  engine: duckdb
  files: [../../flow-logs/dev/*.log.gz]
workloads:
  web: { cidrs: [10.20.1.0/24] }
  api: { interfaces: [eni-0aa11bb2] }
${ENDPOINTS}`,
  'policies/dev/prefix-lists.yaml': `prefixLists:
  card-partner: { cidrs: [203.0.113.0/28], why: card processor }
`,
  'policies/dev/workloads/web.yaml': web(`  - to: { workload: api }
    ports: [tcp/8080]
    why: renders pages from the API
`),
  'policies/dev/workloads/api.yaml': `workload: api
owner: team-api
observed: adopt
egress:
  - to: { service: s3 }
    why: reads objects
`,
};

/** web.yaml with these egress lines (indented, starting on line 5) and optional deny lines after `deny:`. */
export function web(egress: string, deny?: string): string {
  return `workload: web\nowner: team-web\nobserved: adopt\negress:\n${egress}${deny !== undefined ? `deny:\n${deny}` : ''}`;
}

/** An observed TCP entry of the window with the names that gave the workload its address. */
export function namedEntry(destination: string, port: number, names: string[], flows = 7): ObservedEgress {
  const seen = { firstSeen: '2026-11-09', lastSeen: '2026-11-20' };
  return { destination, protocol: 'tcp', port, service: null, flows, bytes: flows * 100, ...seen, decidedBy: 'tcp-flags', names };
}

/** observed/dev/web.yaml over the window 2026-11-08 .. 2026-11-21 with these entries and resolved names. */
export function observedWeb(egress: ObservedEgress[], domains: ObservedDomain[] = []): string {
  const window = { from: '2026-11-08', to: '2026-11-21' };
  return renderObservedYaml({
    workload: 'web',
    environment: 'dev',
    window,
    source: { engine: 'duckdb', records: 100, skippedWindows: 0 },
    egress,
    rejected: [],
    domains,
  });
}

/** environment.yaml of the base with `extra` lines appended to its workloads (before its endpoints line). */
export function devEnvironment(extra: string): string {
  // before the endpoints line, so that `extra` may go on with the workloads map and keeps its line numbers
  return `${BASE['policies/dev/environment.yaml']!.slice(0, -ENDPOINTS.length)}${extra}${ENDPOINTS}`;
}

export interface Run {
  code: number;
  stdout: string;
  stderr: string[];
}

/**
 * Writes the base organisation with `files` applied (null removes a file) and runs `leastpath --root DIR ...args`
 * with `env` added to the process environment it sees.
 */
export async function runOrg(files: Files, args: string[] = ['validate'], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  const dir = await mkdtemp(join(tmpdir(), 'leastpath-validate-'));
  try {
    const all: Files = { ...BASE, ...files };
    for (const [rel, content] of Object.entries(all)) {
      if (content === null) continue;
      await mkdir(dirname(join(dir, rel)), { recursive: true });
      await writeFile(join(dir, rel), content);
    }
    return await runCli(['--root', dir, ...args], env);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export async function runCli(argv: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  let stdout = '';
  const stderr: string[] = [];
  const code = await main(
    argv,
    { stdout: (t) => (stdout += t), stderr: (l) => stderr.push(l) },
    { LEASTPATH_TODAY: TODAY, ...env },
    new Date('2000-01-01T00:00:00Z'),
  );
  return { code, stdout, stderr };
}

/** Runs validate and expects exit `code` and a text finding line that starts with `prefix` (`file:line:col: path: `). */
export async function expectFinding(files: Files, prefix: string, code = 1): Promise<string> {
  const run = await runOrg(files);
  const line = run.stderr.find((l) => l.startsWith(prefix));
  expect(line, `no line starting with ${prefix} in:\n${run.stderr.join('\n')}`).toBeDefined();
  expect(run.code, run.stderr.join('\n')).toBe(code);
  return line!;
}

/** Runs validate --format json and expects exit 0 and no finding of `rule`. */
export async function expectClean(files: Files, rule: string): Promise<void> {
  const run = await runOrg(files, ['validate', '--format', 'json']);
  const doc = JSON.parse(run.stdout) as { findings: Finding[] };
  expect(doc.findings.filter((f) => f.rule === rule || f.severity === 'error')).toEqual([]);
  expect(run.code).toBe(0);
}
