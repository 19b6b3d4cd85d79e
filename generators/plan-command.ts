/**
 * `leastpath plan --env E [--format text|md|json]`: the plan of one environment, from the CLI's load and
 * resolution: replays the observed flows, and compares with the rules of the committed baseline (git HEAD).
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ValidationFailed } from '../core/errors.js';
import { hasErrors, type Finding } from '../core/findings.js';
import { locate, type PathSegment, type YamlSource } from '../core/yaml-source.js';
import { readRepo } from '../model/read-repo.js';
import type { EnvironmentPolicies, ObservedFile } from '../model/types.js';
import { replay } from './what-if.js';
import type { ResolvedEnvironment } from './model.js';
import { dnsWhatIf, domainChurn } from './dns-plan.js';
import { assemblePlan, planGaps, type PlanDocument } from './plan.js';
import { matchContext, resolveEnvironment, type ResolveResult } from './resolve.js';

const run = promisify(execFile);

export interface PlanInput {
  /** Repository root: the git work tree whose HEAD is the baseline, unless `baselineRoot` says another. */
  root: string;
  /** The environment, from the CLI's load. */
  environment: EnvironmentPolicies;
  /** `environment` resolved (validation's resolution, handed on by the CLI). */
  resolution: ResolveResult;
  today: string;
  /** Compare with the committed baseline (default true). */
  baseline?: boolean;
  /** The git work tree whose HEAD is the baseline, when `root` is a copy outside it (default: `root`). */
  baselineRoot?: string;
}

interface PlanResult {
  plan: PlanDocument;
  findings: Finding[];
  /** The line of each current rule's and exception's source (`file path`) in today's files, for links to them. */
  sourceLines: Map<string, number>;
  /** Where environment.yaml says `mode` (what `--detailed-exitcode` points at). */
  modeAt: string;
}

/**
 * Why CI should stop on this plan (`plan --detailed-exitcode`): in an enforce environment, flows it would break or
 * rules with observed flows it removes. Empty when there is none, or the environment is in audit.
 */
export function planStops(plan: PlanDocument): string[] {
  if (plan.mode !== 'enforce') return [];
  const out: string[] = [];
  if (plan.summary.breaksFlows > 0) out.push(`it would break ${plan.summary.breaksFlows} observed flows`);
  const e = plan.evidence;
  if (e.removedObservedRules > 0)
    out.push(`it removes ${e.removedObservedRules} rule(s) that carried ${e.removedObservedFlows} observed flows`);
  return out;
}

/** The plan of one environment: the what-if replay over its observed flows, and the rules added and removed since HEAD. */
export async function planEnvironment(opts: PlanInput): Promise<PlanResult> {
  const { environment, today } = opts;
  const { resolved, findings } = opts.resolution;
  if (hasErrors(findings)) throw new ValidationFailed(findings);
  const observed = new Map<string, ObservedFile>([...environment.observed].map(([k, v]) => [k, v.value]));
  const whatIf = replay(resolved, observed, matchContext(environment));
  const baseline = opts.baseline === false ? null : await committedBaseline(opts.baselineRoot ?? opts.root, environment.name, today);
  const at = locate(environment.environment.source, ['mode']);
  const plan = assemblePlan(resolved, whatIf, baseline, planGaps(observed));
  const config = environment.environment.value;
  // The name layer, only where the environment has one (plans of other environments keep their shape).
  if (config.dnsLogs || config.dnsFirewall) {
    plan.dnsWhatIf = dnsWhatIf(environment, resolved.dnsFirewall?.domains);
    plan.domainChurn = domainChurn(
      resolved.groups.flatMap((g) => g.rules),
      environment,
    );
  }
  return {
    plan,
    findings,
    modeAt: `${environment.environment.source.file}:${at.line}:${at.col}`,
    sourceLines: sourceLines(environment, plan),
  };
}

/** `egress[2].exception` -> ['egress', 2, 'exception']. */
function parsePath(path: string): PathSegment[] {
  return [...path.matchAll(/([^.[\]]+)|\[(\d+)\]/g)].map((m) => (m[2] !== undefined ? Number(m[2]) : m[1]!));
}

/** Lines of the sources the plan names, from the parsed files' positions (never by searching text). */
function sourceLines(environment: EnvironmentPolicies, plan: PlanDocument): Map<string, number> {
  const files = new Map<string, YamlSource>();
  for (const w of [...environment.workloads.values(), ...environment.observed.values()]) files.set(w.source.file, w.source);
  const lines = new Map<string, number>();
  const sources = [...plan.rules.map((r) => r.source), ...plan.exceptions.map((e) => `${e.file} ${e.path}`)];
  for (const source of sources) {
    const at = source.lastIndexOf(' ');
    const src = files.get(source.slice(0, at));
    if (at < 0 || !src) continue;
    lines.set(source, locate(src, parsePath(source.slice(at + 1))).line);
  }
  return lines;
}

/**
 * The resolution of the same environment as committed at HEAD: policies/ and observed/ are exported from git
 * into a temp folder and resolved there. No git, no HEAD, or an invalid baseline: no comparison.
 */
async function committedBaseline(
  root: string,
  environmentName: string,
  today: string,
): Promise<{ label: string; resolved: ResolvedEnvironment } | null> {
  let head: string;
  try {
    head = (await run('git', ['-C', root, 'rev-parse', '--verify', '--quiet', 'HEAD'])).stdout.trim();
  } catch {
    return null;
  }
  const dir = await mkdtemp(join(tmpdir(), `leastpath-baseline-${process.pid}-`));
  try {
    const tar = join(dir, 'baseline.tar');
    try {
      await run('git', ['-C', root, 'archive', '--format=tar', '-o', tar, 'HEAD', '--', 'policies', 'observed']);
    } catch {
      // observed/ may not be committed yet
      try {
        await run('git', ['-C', root, 'archive', '--format=tar', '-o', tar, 'HEAD', '--', 'policies']);
      } catch {
        return null;
      }
    }
    await run('tar', ['-xf', tar, '-C', dir]);
    const { repo, findings } = await readRepo(dir, { env: environmentName }).catch(() => ({ repo: undefined, findings: [] as Finding[] }));
    const environment = repo?.environments.get(environmentName);
    if (!repo || !environment || hasErrors(findings)) return null;
    const { resolved } = resolveEnvironment({ env: environment, guardrails: repo.guardrails, today });
    return { label: `HEAD (${head.slice(0, 12)})`, resolved };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
