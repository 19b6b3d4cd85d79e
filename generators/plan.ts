/**
 * The plan document: resolved rules, exceptions, quota use, the what-if replay and the change against the
 * committed baseline, in the contract's JSON shape. Pure; rendered to text and markdown in render-plan.ts.
 */
import { portRange } from '../core/ports.js';
import type { DecidedBy, ObservedFile } from '../model/types.js';
import type { WhatIf } from './what-if.js';
import type { AdoptedName } from './adopt-names.js';
import type { DnsWhatIf, DomainChurn } from './dns-plan.js';
import type {
  CompactionReport,
  ExceptionUse,
  NaclRule,
  NotAdopted,
  Peer,
  QuotaUse,
  ResolvedEndpoint,
  ResolvedEnvironment,
  ResolvedNetworkFirewall,
  ResolvedPrefixList,
  ResolvedRule,
} from './model.js';
import { compareRules, ruleKey } from './resolve.js';

export interface PlanRule {
  workload: string;
  /** A CIDR, or the intent form of the peer: `workload:api`, `service:s3`, `prefixList:card-partner`. */
  destination: string;
  protocol: string;
  /** `443`, `8000-8100`, or `all` (every port, every ICMP type, or every protocol). */
  ports: string;
  provenance: 'intent' | 'intent-domain' | 'observed' | 'observed-domain';
  why: string;
  /** `file path`, where the rule comes from. */
  source: string;
  exception?: { reason: string; owner: string; expires: string; ticket?: string };
  flows?: number;
  lastSeen?: string;
  /** Observed rules: which rule decided the initiator (of the first destination, for a merged rule). */
  decidedBy?: DecidedBy;
  /** Observed destinations a merged (compacted) rule stands for. */
  covers?: string[];
}

export interface PlanDocument {
  environment: string;
  mode: string;
  account: string;
  region: string;
  vpc: string;
  summary: { workloads: number; rules: number; intent: number; observed: number; breaksFlows: number; breaksWorkloads: number };
  rules: PlanRule[];
  whatIf: WhatIf;
  exceptions: ExceptionUse[];
  quota: QuotaUse[];
  prefixLists: ResolvedPrefixList[];
  endpoints: ResolvedEndpoint[];
  quarantine: NaclRule[];
  notAdopted: NotAdopted[];
  compaction: CompactionReport[];
  changes: { baseline: string | null; added: PlanRule[]; removed: PlanRule[] };
  /** What the plan stands on: the observed rules it removes against the baseline, and the workloads with gaps in their logs. */
  evidence: PlanEvidence;
  /** Names the window's queries asked for that the DNS Firewall allowlist would not allow (with dnsLogs or dnsFirewall). */
  dnsWhatIf?: DnsWhatIf;
  /** How much the addresses of each domain rule churned over the window. */
  domainChurn?: DomainChurn[];
  /** Names `adoptNames` workloads adopted instead of addresses (absent when none). */
  adoptedNames?: AdoptedName[];
  /** The Network Firewall rule groups and what they would drop (with `networkFirewall`). */
  networkFirewall?: ResolvedNetworkFirewall;
}

/** The evidence behind a plan, for its headline and for CI (`plan --detailed-exitcode`). */
export interface PlanEvidence {
  /** Rules of the baseline with observed flows that this plan removes, and those flows. */
  removedObservedRules: number;
  removedObservedFlows: number;
  /** Workloads whose interfaces did not log every day of the window, or that have no coverage at all. */
  gaps: PlanGap[];
}

export interface PlanGap {
  workload: string;
  /** Days of the window the workload's interfaces logged records, of `days`; null when the evidence records no coverage. */
  covered: number | null;
  days: number | null;
  /** The earlier window whose evidence was kept because this one's coverage was too low. */
  kept?: { from: string; to: string };
}

/** The destination of a rule as plan and PR bodies print it. */
export function peerText(p: Peer): string {
  switch (p.kind) {
    case 'cidr':
      return p.cidr;
    case 'workload':
      return `workload:${p.workload}`;
    case 'endpoint':
    case 'awsPrefixList':
      return `service:${p.service}`;
    case 'prefixList':
      return `prefixList:${p.name}`;
  }
}

function portsText(r: Pick<ResolvedRule, 'protocol' | 'fromPort' | 'toPort'>): string {
  if (r.fromPort === undefined || r.toPort === undefined) return 'all';
  return portRange(r.fromPort, r.toPort);
}

/** A plan rule's protocol and ports as plans and PR bodies print them: `tcp/443`, `tcp/8000-8100`, `icmp`, `all`. */
export function planRulePorts(r: Pick<PlanRule, 'protocol' | 'ports'>): string {
  return r.ports === 'all' ? r.protocol : `${r.protocol}/${r.ports}`;
}

/** A rule's why as a reviewer reads it: for an observed rule, with the rule that decided its initiator. */
export function reviewWhy(r: Pick<PlanRule, 'why' | 'decidedBy'>): string {
  return r.decidedBy ? `${r.why} (initiator by ${r.decidedBy})` : r.why;
}

function planRule(r: ResolvedRule): PlanRule {
  return {
    workload: r.workload,
    destination: peerText(r.peer),
    protocol: String(r.protocol),
    ports: portsText(r),
    provenance: r.provenance,
    why: r.why,
    source: `${r.source.file} ${r.source.path}`,
    ...(r.exception ? { exception: { ...r.exception } } : {}),
    ...(r.evidence ? { flows: r.evidence.flows, lastSeen: r.evidence.lastSeen, decidedBy: r.evidence.decidedBy } : {}),
    ...(r.evidence && r.evidence.destinations.length > 1 ? { covers: [...r.evidence.destinations] } : {}),
  };
}

/** Builds the plan from the resolution, the replay and (when there is one) the committed baseline's resolution. */
export function assemblePlan(
  resolved: ResolvedEnvironment,
  whatIf: WhatIf,
  baseline: { label: string; resolved: ResolvedEnvironment } | null,
  gaps: PlanGap[] = [],
): PlanDocument {
  const rules = resolved.groups.flatMap((g) => g.rules).sort(compareRules);
  const changes = baseline ? diffRules(baseline.resolved, rules) : { added: [], removed: [] };
  const evidenced = changes.removed.filter((r) => isObserved(r) && (r.flows ?? 0) > 0);
  return {
    environment: resolved.environment,
    mode: resolved.mode,
    account: resolved.account,
    region: resolved.region,
    vpc: resolved.vpc,
    summary: {
      workloads: resolved.groups.length,
      rules: rules.length,
      intent: rules.filter((r) => !isObserved(r)).length,
      observed: rules.filter(isObserved).length,
      breaksFlows: whatIf.deniedFlows,
      breaksWorkloads: whatIf.deniedWorkloads,
    },
    rules: rules.map(planRule),
    whatIf,
    exceptions: resolved.exceptions,
    quota: resolved.groups.map((g) => g.quota),
    prefixLists: resolved.prefixLists,
    endpoints: resolved.endpoints,
    quarantine: resolved.quarantine,
    notAdopted: resolved.notAdopted,
    compaction: resolved.compaction,
    changes: { baseline: baseline?.label ?? null, ...changes },
    evidence: {
      removedObservedRules: evidenced.length,
      removedObservedFlows: evidenced.reduce((n, r) => n + (r.flows ?? 0), 0),
      gaps,
    },
    ...(resolved.adoptedNames ? { adoptedNames: resolved.adoptedNames } : {}),
    ...(resolved.networkFirewall ? { networkFirewall: resolved.networkFirewall } : {}),
  };
}

/** Rules the evidence made: observed addresses, and the addresses of adopted names. */
function isObserved(r: Pick<PlanRule, 'provenance'>): boolean {
  return r.provenance === 'observed' || r.provenance === 'observed-domain';
}

/** Workloads of an environment whose evidence has gaps: coverage below every day of the window, or no coverage recorded. */
export function planGaps(observed: ReadonlyMap<string, ObservedFile>): PlanGap[] {
  const out: PlanGap[] = [];
  for (const name of [...observed.keys()].sort()) {
    const c = observed.get(name)!.coverage;
    if (!c) out.push({ workload: name, covered: null, days: null });
    else if (c.covered < c.days) out.push({ workload: name, covered: c.covered, days: c.days, ...(c.kept ? { kept: { ...c.kept } } : {}) });
  }
  return out;
}

/** Rules added and removed against the baseline, by rule identity (workload, destination, protocol, ports). */
function diffRules(before: ResolvedEnvironment, after: readonly ResolvedRule[]): { added: PlanRule[]; removed: PlanRule[] } {
  const old = before.groups.flatMap((g) => g.rules);
  const oldKeys = new Set(old.map(ruleKey));
  const newKeys = new Set(after.map(ruleKey));
  return {
    added: after.filter((r) => !oldKeys.has(ruleKey(r))).map(planRule),
    removed: old
      .filter((r) => !newKeys.has(ruleKey(r)))
      .sort(compareRules)
      .map(planRule),
  };
}
