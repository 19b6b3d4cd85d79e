/**
 * The name layer of a plan (pure): the VPC's DNS Firewall allowlist, the DNS what-if (names the window's queries
 * asked for that the allowlist would not allow), how much the addresses of domain rules churned, and the domain
 * rule that would explain a set of observed addresses.
 */
import { hostCidr } from '../core/cidr.js';
import { anyNameMatches, registrableDomain } from '../core/domains.js';
import { compareText } from '../core/text.js';
import type { EnvironmentPolicies, ObservedFile } from '../model/types.js';
import type { ResolvedRule } from './model.js';

export interface DnsBlocked {
  workload: string;
  name: string;
  queries: number;
}

export interface DnsWhatIf {
  /** The allowlist replayed: every workload's domain intent plus dnsFirewall.allow, sorted. */
  allowlist: string[];
  mode: 'alert' | 'block' | null;
  blocked: DnsBlocked[];
  /** Queries the firewall would alert on or block. */
  blockedQueries: number;
}

export interface DomainChurn {
  workload: string;
  /** `file path` of the domain rule. */
  source: string;
  domains: string[];
  /** Addresses the names resolved to in the window (the rule's destinations before compaction). */
  addresses: number;
  /** Addresses first seen after the window's first day: new since it began. */
  appeared: number;
  /** Addresses last seen before the window's last day: gone before it ended. */
  disappeared: number;
}

/**
 * The VPC's allowlist: every workload's `domains` intent plus the environment's `dnsFirewall.allow`, plus `adopted`
 * (the names workloads adopted, when `dnsFirewall.allowAdopted` says so; the resolution passes them).
 */
export function dnsAllowlist(env: EnvironmentPolicies, adopted: readonly string[] = []): string[] {
  const names = new Set([...(env.environment.value.dnsFirewall?.allow ?? []), ...adopted]);
  for (const w of env.workloads.values())
    for (const r of w.value.egress) if (r.to.kind === 'domains') for (const d of r.to.domains) names.add(d);
  return [...names].sort(compareText);
}

/** Replays each workload's observed names (NOERROR) against the allowlist (the resolution's, adopted names included). */
export function dnsWhatIf(env: EnvironmentPolicies, allowlist: string[] = dnsAllowlist(env)): DnsWhatIf {
  const blocked: DnsBlocked[] = [];
  for (const [workload, o] of [...env.observed].sort(([a], [b]) => compareText(a, b))) {
    for (const d of o.value.domains ?? []) {
      if (d.nxdomain || anyNameMatches(allowlist, d.name)) continue;
      blocked.push({ workload, name: d.name, queries: d.queries });
    }
  }
  return {
    allowlist,
    mode: env.environment.value.dnsFirewall?.mode ?? null,
    blocked,
    blockedQueries: blocked.reduce((n, b) => n + b.queries, 0),
  };
}

/** Churn of each domain rule's addresses over the window, from the evidence of its rules. */
export function domainChurn(rules: readonly ResolvedRule[], env: EnvironmentPolicies): DomainChurn[] {
  const bySource = new Map<string, ResolvedRule[]>();
  for (const r of rules) {
    if (r.provenance !== 'intent-domain') continue;
    const key = `${r.workload}\t${r.source.file} ${r.source.path}`;
    const list = bySource.get(key);
    if (list) list.push(r);
    else bySource.set(key, [r]);
  }
  const out: DomainChurn[] = [];
  for (const [key, list] of [...bySource].sort(([a], [b]) => compareText(a, b))) {
    const [workload, source] = key.split('\t') as [string, string];
    const window = env.observed.get(workload)?.value.window;
    const index = Number(/egress\[(\d+)\]/.exec(source)?.[1]);
    const rule = env.workloads.get(workload)?.value.egress.find((r) => r.index === index);
    const seen = new Map<string, { first: string; last: string }>();
    for (const r of list)
      for (const d of r.evidence?.destinations ?? [])
        if (r.evidence) seen.set(d, { first: r.evidence.firstSeen, last: r.evidence.lastSeen });
    const spans = [...seen.values()];
    out.push({
      workload,
      source,
      domains: rule?.to.kind === 'domains' ? [...rule.to.domains] : [],
      addresses: seen.size,
      appeared: window ? spans.filter((s) => s.first > window.from).length : 0,
      disappeared: window ? spans.filter((s) => s.last < window.to).length : 0,
    });
  }
  return out;
}

/**
 * The domain rule that would explain a workload's observed external addresses: the names on its egress entries,
 * a name shared by three or more names of one registrable domain written as `*.<registrable>`. Empty when no
 * entry has names (no query logs).
 */
export function suggestDomains(observed: ObservedFile | undefined, addresses: readonly string[]): { domains: string[]; explained: number } {
  const wanted = new Set(addresses.map((a) => hostCidr(a) ?? a));
  const names = new Set<string>();
  let explained = 0;
  for (const e of observed?.egress ?? []) {
    if (!wanted.has(e.destination) || !e.names || e.names.length === 0) continue;
    explained++;
    for (const n of e.names) names.add(n);
  }
  const byDomain = new Map<string, string[]>();
  for (const n of names) {
    const reg = registrableDomain(n);
    byDomain.set(reg, [...(byDomain.get(reg) ?? []), n]);
  }
  const domains = [...byDomain].flatMap(([reg, list]) => (list.length >= 3 ? [`*.${reg}`] : list)).sort(compareText);
  return { domains, explained };
}
