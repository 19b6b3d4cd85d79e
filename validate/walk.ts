/** Iterating the model the way most rules need it: every workload, every rule, every CIDR, with its path. */
import { parseCidr, type Cidr } from '../core/cidr.js';
import type { PathSegment, YamlSource } from '../core/yaml-source.js';
import type { Destination, DenyRule, EnvironmentPolicies, IntentRule, Repo, WorkloadIntent } from '../model/types.js';

interface WorkloadRef {
  env: EnvironmentPolicies;
  /** The file name (without .yaml). */
  name: string;
  intent: WorkloadIntent;
  src: YamlSource;
}

interface EgressRef extends WorkloadRef {
  rule: IntentRule;
  /** `['egress', i]` */
  path: PathSegment[];
}

interface DenyRef extends WorkloadRef {
  rule: DenyRule;
  /** `['deny', i]` */
  path: PathSegment[];
}

export function environments(repo: Repo): EnvironmentPolicies[] {
  return [...repo.environments.values()];
}

export function workloads(repo: Repo): WorkloadRef[] {
  const out: WorkloadRef[] = [];
  for (const env of repo.environments.values()) {
    for (const [name, w] of env.workloads) out.push({ env, name, intent: w.value, src: w.source });
  }
  return out;
}

export function egressRules(repo: Repo): EgressRef[] {
  return workloads(repo).flatMap((w) => w.intent.egress.map((rule) => ({ ...w, rule, path: ['egress', rule.index] })));
}

export function denyRules(repo: Repo): DenyRef[] {
  return workloads(repo).flatMap((w) => w.intent.deny.map((rule) => ({ ...w, rule, path: ['deny', rule.index] })));
}

/** The value at `path` in the file's plain data (what was written, before normalisation). */
export function rawAt(src: YamlSource, path: readonly PathSegment[]): unknown {
  let cur: unknown = src.data;
  for (const seg of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string | number, unknown>)[seg];
  }
  return cur;
}

/** The port texts of a rule as written (the model keeps only those that parse). */
export function rawPorts(src: YamlSource, rulePath: readonly PathSegment[]): string[] {
  const v = rawAt(src, [...rulePath, 'ports']);
  return Array.isArray(v) ? v.map(String) : [];
}

interface LocatedCidr {
  cidr: Cidr;
  text: string;
  /** Where the CIDR is written: the rule's `to.cidrs[j]`, or its `to.prefixList` for a list's entries. */
  path: PathSegment[];
  /** The prefix list it came from, if any. */
  prefixList?: string;
}

/** The CIDRs a destination stands for (a prefix list's entries included); those that do not parse are left out. */
export function destinationCidrs(env: EnvironmentPolicies, to: Destination, rulePath: readonly PathSegment[]): LocatedCidr[] {
  if (to.kind === 'cidrs') {
    return to.cidrs.flatMap((text, j) => {
      const cidr = parseCidr(text);
      return cidr ? [{ cidr, text, path: [...rulePath, 'to', 'cidrs', j] }] : [];
    });
  }
  if (to.kind === 'prefixList') {
    const list = env.prefixLists[to.prefixList];
    if (!list) return [];
    return list.cidrs.flatMap((text) => {
      const cidr = parseCidr(text);
      return cidr ? [{ cidr, text, path: [...rulePath, 'to', 'prefixList'], prefixList: to.prefixList }] : [];
    });
  }
  return [];
}

/** True when both CIDRs share an address. */
export function overlaps(a: Cidr, b: Cidr): boolean {
  if (a.family !== b.family) return false;
  const shift = BigInt((a.family === 4 ? 32 : 128) - Math.min(a.prefix, b.prefix));
  return a.network >> shift === b.network >> shift;
}

/** The file of a workload inside its environment (whether or not it loaded). */
export function workloadFile(env: EnvironmentPolicies, name: string): string {
  return `policies/${env.name}/workloads/${name}.yaml`;
}

/** True when the workload's file exists (loaded, or left out for errors that are reported elsewhere). */
export function workloadFileExists(env: EnvironmentPolicies, name: string): boolean {
  return env.workloads.has(name) || env.unloaded.includes(workloadFile(env, name));
}
