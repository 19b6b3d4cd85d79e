/**
 * Resolution: one environment's intent (policies/) and evidence (observed/) -> the resolved rules, prefix lists,
 * endpoints and quarantine rules, within the security-group quota. Pure: the repository model and today's date
 * in, a ResolvedEnvironment and findings out.
 */
import { daysBetween } from '../core/dates.js';
import { compareCidr, contains, containsAddress, formatCidr, hostCidr, parseCidr, type Cidr } from '../core/cidr.js';
import type { Finding } from '../core/findings.js';
import { findingAt } from '../core/yaml-source.js';
import { admits, formatPortSpec, type PortSpec, type Protocol } from '../core/ports.js';
import { compareText } from '../core/text.js';
import { endpointType } from '../model/aws-services.js';
import type {
  Destination,
  EnvironmentPolicies,
  Guardrails,
  IntentRule,
  ObservedEgress,
  ObservedFile,
  Sourced,
  StateConfig,
  WorkloadIntent,
} from '../model/types.js';
import { anyNameMatches } from '../core/domains.js';
import { compact, type AddressClass } from './compaction.js';
import { adoptByName, type AdoptCandidate, type AdoptedName } from './adopt-names.js';
import { dnsAllowlist, suggestDomains } from './dns-plan.js';
import { ownAddressTest } from './name-addresses.js';
import { networkFirewallOf } from './network-firewall.js';
import { protocolNumber, ruleAdmits, type Flow, type MatchContext } from './match.js';
import type {
  CompactionReport,
  Evidence,
  ExceptionUse,
  NaclRule,
  NotAdopted,
  Peer,
  ResolvedEndpoint,
  ResolvedEnvironment,
  ResolvedGroup,
  ResolvedPrefixList,
  ResolvedRule,
  ResolvedState,
} from './model.js';

/** Security-group rule units an AWS-managed prefix list weighs (its "weight"), by service. */
const AWS_PREFIX_LIST_WEIGHT: Record<string, number> = { s3: 1, dynamodb: 1 };

interface ResolveInput {
  env: EnvironmentPolicies;
  guardrails: Guardrails;
  /** YYYY-MM-DD */
  today: string;
}

export interface ResolveResult {
  resolved: ResolvedEnvironment;
  /** Errors that make the plan unusable (a quota compaction cannot meet); warnings. */
  findings: Finding[];
}

/**
 * Resolves one environment: each workload's group from its own intent and evidence (`resolveWorkload`), then what the
 * environment shares (prefix lists, endpoints, quarantine, DNS Firewall, Network Firewall).
 */
export function resolveEnvironment(input: ResolveInput): ResolveResult {
  const { env } = input;
  const config = env.environment.value;
  const ctx = matchContext(env);
  const ownAddress = ownAddressTest(config, ctx);
  const scope: WorkloadScope = { ...input, ctx, ownAddress };
  const workloads = [...env.workloads]
    .sort(([a], [b]) => compareText(a, b))
    .map(([name, sourced]) => resolveWorkload(scope, name, sourced));
  const adoptedNames = workloads.flatMap((w) => w.adoptedNames);
  const networkFirewall = networkFirewallOf(env, adoptedNames, ownAddress);
  const dnsFirewall = dnsFirewallOf(env, adoptedNames);
  return {
    resolved: {
      environment: env.name,
      account: config.account,
      region: config.region,
      vpc: config.vpc,
      mode: config.mode,
      groups: workloads.map((w) => w.group),
      prefixLists: policyPrefixLists(env),
      endpoints: endpointsOf(
        env,
        workloads.flatMap((w) => w.endpointUses),
      ),
      quarantine: quarantineRules(env),
      ...(config.state ? { state: resolveState(env.name, config.region, config.state) } : {}),
      ...(config.terraform?.awsProvider !== undefined ? { awsProvider: config.terraform.awsProvider } : {}),
      ...(dnsFirewall ? { dnsFirewall } : {}),
      ...(adoptedNames.length > 0 ? { adoptedNames } : {}),
      ...(networkFirewall ? { networkFirewall } : {}),
      notAdopted: sortNotAdopted(workloads.flatMap((w) => w.notAdopted)),
      compaction: workloads.flatMap((w) => w.compaction),
      exceptions: workloads
        .flatMap((w) => w.exceptions)
        .sort((a, b) => compareText(a.expires, b.expires) || compareText(a.workload, b.workload) || compareText(a.path, b.path)),
    },
    findings: [...workloads.flatMap((w) => w.findings), ...homeNetFindings(env, networkFirewall)],
  };
}

/** What every workload's resolution reads: the input, the workloads' addresses, and the VPC's own-address test. */
interface WorkloadScope extends ResolveInput {
  ctx: MatchContext;
  ownAddress: (address: string) => boolean;
}

/** A workload that needs a VPC endpoint, and why (the first use of a service gives the endpoint its why). */
interface EndpointUse {
  service: string;
  workload: string;
  why: string;
}

/** One workload's share of the resolved environment. */
interface WorkloadResolution {
  group: ResolvedGroup;
  findings: Finding[];
  endpointUses: EndpointUse[];
  notAdopted: NotAdopted[];
  compaction: CompactionReport[];
  exceptions: ExceptionUse[];
  adoptedNames: AdoptedName[];
}

/**
 * One workload: intent rules, domain rules, the observed entries by the workload's policy (names adopted where asked),
 * then compaction to the quota. Intent first, so an observed entry an intent rule covers is not adopted again.
 */
function resolveWorkload(scope: WorkloadScope, name: string, sourced: Sourced<WorkloadIntent>): WorkloadResolution {
  const { env, guardrails, today } = scope;
  const intent = sourced.value;
  const file = sourced.source.file;
  const observed = env.observed.get(name);
  const securityGroup = env.environment.value.workloads[name]?.securityGroup;
  const rules = intentRules(name, file, intent);
  const domains = domainRules(scope, name, sourced, observed?.value);
  const byPolicy = observedByPolicy(scope, name, file, intent, observed, [...rules, ...domains.rules]);
  const named = observed ? adoptedNameRules(scope, name, intent, observed, byPolicy.candidates) : { rules: [], adopted: [], byAddress: [] };
  const observedRules = observedAddressRules(name, observed?.source.file ?? file, [...byPolicy.adopt, ...named.byAddress]);
  const fitted = fitGroup(scope, name, file, rules, [...domains.rules, ...named.rules, ...observedRules], observed?.value, observedRules);
  return {
    group: {
      workload: name,
      owner: intent.owner,
      ...(securityGroup ? { adoptId: securityGroup } : {}),
      rules: fitted.rules,
      quota: quotaUse(name, fitted.rules, env.environment.value.quotas.rulesPerGroup, env),
    },
    findings: [...domains.findings, ...fitted.findings],
    endpointUses: [...intentEndpointUses(name, intent), ...byPolicy.endpointUses],
    notAdopted: byPolicy.notAdopted,
    compaction: fitted.compaction,
    exceptions: intent.egress.filter((r) => r.exception).map((r) => exceptionUse(name, file, r, today, guardrails.expiringSoonDays)),
    adoptedNames: named.adopted,
  };
}

/** Intent rules other than domains: every rule × peer × port range, as written (the policy is the authority). */
function intentRules(name: string, file: string, intent: WorkloadIntent): ResolvedRule[] {
  return intent.egress.flatMap((rule) =>
    rule.to.kind === 'domains'
      ? []
      : intentPeers(rule.to).flatMap((peer) =>
          rule.ports.map((ports): ResolvedRule => ({
            workload: name,
            peer,
            ...portFields(ports),
            provenance: 'intent',
            why: rule.why,
            source: { file, path: `egress[${rule.index}]` },
            ...(rule.exception ? { exception: rule.exception } : {}),
          })),
        ),
  );
}

/** The endpoints the workload's service rules need: a service rule is only reachable privately through one. */
function intentEndpointUses(name: string, intent: WorkloadIntent): EndpointUse[] {
  return intent.egress.flatMap((rule) => (rule.to.kind === 'service' ? [{ service: rule.to.service, workload: name, why: rule.why }] : []));
}

/**
 * Domain intent as the addresses observed for its names (compacted with the observed rules when over quota); a rule
 * whose names resolved to no usable address allows nothing, and says so.
 */
function domainRules(
  scope: WorkloadScope,
  name: string,
  sourced: Sourced<WorkloadIntent>,
  observed: ObservedFile | undefined,
): { rules: ResolvedRule[]; findings: Finding[] } {
  const intent = sourced.value;
  const rules: ResolvedRule[] = [];
  const findings: Finding[] = [];
  for (const rule of intent.egress) {
    if (rule.to.kind !== 'domains') continue;
    const fromNames = domainRulesOf(name, sourced.source.file, rule, rule.to.domains, observed, intent, scope.ownAddress);
    // No address observed for the names (no query logs, or not asked for in the window): the rule allows nothing yet.
    if (fromNames.length === 0) {
      const own = ownAnswers(rule.to.domains, observed, scope.ownAddress);
      findings.push(
        findingAt(
          sourced.source,
          ['egress', rule.index, 'to', 'domains'],
          'domain-unresolved',
          own > 0
            ? `${rule.to.domains.join(', ')} resolved only inside the VPC or link-local in the window (${own} addresses): a name never opens the VPC's own addresses, so the rule allows nothing; allow them with a workload or cidrs rule`
            : `no address observed for ${rule.to.domains.join(', ')} in the window (needs dnsLogs and queries for the names): the rule allows nothing until observe sees them resolve`,
          'warning',
        ),
      );
    }
    rules.push(...fromNames);
  }
  return { rules, findings };
}

/** An observed entry to adopt as a rule to this peer. */
interface Adoption {
  entry: ObservedEgress;
  index: number;
  peer: Peer;
}

/**
 * Each observed entry by the workload's policy: covered by intent, not adopted (`observed` is not `adopt`), denied,
 * or adopted (to a gateway's prefix list, a workload, or an address; external addresses wait for names when
 * adoptNames asks). A record is input, not truth: only the policy turns one into a rule.
 */
function observedByPolicy(
  scope: WorkloadScope,
  name: string,
  file: string,
  intent: WorkloadIntent,
  observed: Sourced<ObservedFile> | undefined,
  covering: readonly ResolvedRule[],
): { adopt: Adoption[]; candidates: AdoptCandidate[]; notAdopted: NotAdopted[]; endpointUses: EndpointUse[] } {
  const { ctx } = scope;
  const out = {
    adopt: [] as Adoption[],
    candidates: [] as AdoptCandidate[],
    notAdopted: [] as NotAdopted[],
    endpointUses: [] as EndpointUse[],
  };
  if (!observed) return out;
  const adoptsNames = intent.observed === 'adopt' && (intent.adoptNames ?? scope.env.environment.value.adoptNames ?? false);
  observed.value.egress.forEach((e, i) => {
    const flow = toFlow(e);
    const base = {
      workload: name,
      destination: e.destination,
      protocol: e.protocol,
      ...(e.port !== undefined ? { port: e.port } : {}),
      flows: e.flows,
    };
    const cover = covering.find((r) => ruleAdmits(r, flow, ctx));
    if (cover) {
      out.notAdopted.push({ ...base, reason: 'covered', detail: `${cover.source.file} ${cover.source.path}` });
      return;
    }
    if (intent.observed !== 'adopt') {
      out.notAdopted.push({ ...base, reason: intent.observed, detail: `observed: ${intent.observed} in ${file}` });
      return;
    }
    const deny = denyFor(intent, flow);
    if (deny) {
      out.notAdopted.push({ ...base, reason: 'denied', detail: deny });
      return;
    }
    const gateway = e.service !== null && endpointType(e.service.toLowerCase()) === 'gateway' ? e.service.toLowerCase() : undefined;
    const peer: Peer = gateway
      ? { kind: 'awsPrefixList', service: gateway }
      : (peerWorkload(flow, name, ctx) ?? { kind: 'cidr', cidr: parseCidr(e.destination)?.text ?? e.destination });
    if (gateway) {
      out.endpointUses.push({ service: gateway, workload: name, why: `observed ${e.service} traffic` });
      out.notAdopted.push({ ...base, reason: 'aws-service', detail: `gateway endpoint ${gateway}` });
    }
    if (adoptsNames && peer.kind === 'cidr') out.candidates.push({ entry: e, index: i });
    else out.adopt.push({ entry: e, index: i, peer });
  });
  return out;
}

/** adoptNames: the names that explain the entries to external addresses become rules; what no name explains stays an address. */
function adoptedNameRules(
  scope: WorkloadScope,
  name: string,
  intent: WorkloadIntent,
  observed: Sourced<ObservedFile>,
  candidates: readonly AdoptCandidate[],
): { rules: ResolvedRule[]; adopted: AdoptedName[]; byAddress: Adoption[] } {
  if (candidates.length === 0) return { rules: [], adopted: [], byAddress: [] };
  const byName = adoptByName(name, observed.source.file, observed.value, [...candidates], {
    toFlow,
    portsOf: observedPorts,
    denyFor: (f) => denyFor(intent, f),
    ownAddress: scope.ownAddress,
  });
  return {
    rules: byName.rules,
    adopted: byName.adopted,
    byAddress: byName.byAddress.map((c) => ({
      ...c,
      peer: { kind: 'cidr', cidr: parseCidr(c.entry.destination)?.text ?? c.entry.destination },
    })),
  };
}

/** Adopted entries as rules, one per peer and port range: entries that meet in one rule add their evidence to it. */
function observedAddressRules(name: string, file: string, adoptions: readonly Adoption[]): ResolvedRule[] {
  const rules: ResolvedRule[] = [];
  for (const { entry: e, index: i, peer } of adoptions) {
    const ports = observedPorts(e);
    const existing = rules.find(
      (r) => samePeer(r.peer, peer) && r.protocol === ports.protocol && r.fromPort === ports.fromPort && r.toPort === ports.toPort,
    );
    if (existing) {
      mergeEvidence(existing.evidence!, e, [e.destination]);
      continue;
    }
    rules.push({
      workload: name,
      peer,
      ...ports,
      provenance: 'observed',
      why: observedWhy(e),
      source: { file, path: `egress[${i}]` },
      evidence: {
        flows: e.flows,
        bytes: e.bytes,
        firstSeen: e.firstSeen,
        lastSeen: e.lastSeen,
        decidedBy: e.decidedBy,
        destinations: [e.destination],
      },
    });
  }
  return rules;
}

/**
 * The group's rules within the quota: over it, the derived rules are compacted (intent never is); when compaction
 * cannot meet it, an error, and the rules stay as they were so the plan still shows them.
 */
function fitGroup(
  scope: WorkloadScope,
  name: string,
  file: string,
  intent: readonly ResolvedRule[],
  derived: readonly ResolvedRule[],
  observed: ObservedFile | undefined,
  observedRules: readonly ResolvedRule[],
): { rules: ResolvedRule[]; findings: Finding[]; compaction: CompactionReport[] } {
  const { env, guardrails } = scope;
  const all = [...intent, ...derived];
  const limit = env.environment.value.quotas.rulesPerGroup;
  const out = { rules: all, findings: [] as Finding[], compaction: [] as CompactionReport[] };
  if (quotaUnits(all, env) > limit) {
    const fitted = fitQuota(name, [...intent], [...derived], limit, env, guardrails);
    if ('error' in fitted) {
      out.findings.push({
        rule: 'quota',
        severity: 'error',
        file,
        line: 1,
        col: 1,
        path: '<root>',
        message: fitted.error + domainSuggestion(observed, observedRules),
      });
    } else {
      out.rules = fitted.rules;
      out.compaction = fitted.reports;
    }
  }
  return { ...out, rules: dedupeRules(out.rules).sort(compareRules) };
}

/** The policy prefix lists intent rules name, in name order: only a list some rule uses becomes a resource. */
function policyPrefixLists(env: EnvironmentPolicies): ResolvedPrefixList[] {
  const used = new Set<string>();
  for (const [, sourced] of env.workloads) for (const r of sourced.value.egress) if (r.to.kind === 'prefixList') used.add(r.to.prefixList);
  return [...used].sort().flatMap((n) => {
    const pl = env.prefixLists[n];
    if (!pl) return [];
    const cidrs = pl.cidrs
      .map((c) => parseCidr(c))
      .filter((c): c is Cidr => c !== undefined)
      .sort(compareCidr);
    return [
      {
        name: n,
        family: cidrs[0]?.family ?? 4,
        entries: cidrs.map((c) => ({ cidr: c.text, description: pl.why })),
        maxEntries: pl.maxEntries,
        why: pl.why,
        origin: 'policy' as const,
      },
    ];
  });
}

/** One endpoint per service the workloads use, in service order; the first use (in workload order) gives its why. */
function endpointsOf(env: EnvironmentPolicies, uses: readonly EndpointUse[]): ResolvedEndpoint[] {
  const config = env.environment.value;
  const endpoints = new Map<string, ResolvedEndpoint>();
  for (const { service, workload, why } of uses) {
    const type = endpointType(service) === 'gateway' ? 'Gateway' : 'Interface';
    const e = endpoints.get(service) ?? {
      service,
      type,
      routeTables: type === 'Gateway' ? [...config.endpoints.routeTables].sort() : [],
      subnets: type === 'Interface' ? [...config.endpoints.subnets].sort() : [],
      workloads: [],
      why,
    };
    if (!e.workloads.includes(workload)) e.workloads.push(workload);
    e.workloads.sort();
    endpoints.set(service, e);
  }
  return [...endpoints.values()].sort((a, b) => compareText(a.service, b.service));
}

/** The DNS Firewall allowlist, when the environment has one: intent's names, and the adopted names when allowed. */
function dnsFirewallOf(env: EnvironmentPolicies, adoptedNames: readonly AdoptedName[]): ResolvedEnvironment['dnsFirewall'] {
  const dns = env.environment.value.dnsFirewall;
  if (!dns) return undefined;
  return { mode: dns.mode, domains: dnsAllowlist(env, dns.allowAdopted ? adoptedNames.map((a) => a.name) : []) };
}

/** Workloads with names but no known address: no Network Firewall group, since one without HOME_NET filters the whole VPC. */
function homeNetFindings(env: EnvironmentPolicies, networkFirewall: ReturnType<typeof networkFirewallOf>): Finding[] {
  return (networkFirewall?.unplaced ?? []).map((w) =>
    findingAt(
      env.environment.source,
      ['networkFirewall'],
      'network-firewall-home-net',
      `${w} has names but no known address (no cidrs selector, no addresses observed): no Network Firewall rule group for it, since one without HOME_NET would filter every workload of the VPC`,
      'warning',
    ),
  );
}

/** Entries not adopted, by workload, destination, protocol and port (a stable sort: ties keep entry order). */
function sortNotAdopted(list: NotAdopted[]): NotAdopted[] {
  return list.sort(
    (a, b) =>
      compareText(a.workload, b.workload) ||
      cmpCidrText(a.destination, b.destination) ||
      compareText(a.protocol, b.protocol) ||
      (a.port ?? -1) - (b.port ?? -1),
  );
}

/** The addresses of every workload (observed addresses, CIDR selectors; in name order) and the prefix lists' entries. */
export function matchContext(env: EnvironmentPolicies): MatchContext {
  const workloadAddresses = new Map<string, Cidr[]>();
  for (const [name, sel] of Object.entries(env.environment.value.workloads).sort(([a], [b]) => compareText(a, b))) {
    const cidrs = sel.cidrs.map((c) => parseCidr(c)).filter((c): c is Cidr => c !== undefined);
    for (const a of env.observed.get(name)?.value.addresses ?? []) {
      const c = parseCidr(a);
      if (c) cidrs.push(c);
    }
    workloadAddresses.set(name, cidrs);
  }
  const prefixLists = new Map<string, Cidr[]>();
  for (const [name, pl] of Object.entries(env.prefixLists)) {
    prefixLists.set(
      name,
      pl.cidrs.map((c) => parseCidr(c)).filter((c): c is Cidr => c !== undefined),
    );
  }
  return { workloadAddresses, prefixLists };
}

/**
 * A domain rule's rules: one per address the workload's observed `domains` give for the names (NXDOMAIN-only names
 * give none) and per port, provenance `intent-domain`, with the evidence of the observed entry to that address.
 */
function domainRulesOf(
  workload: string,
  file: string,
  rule: IntentRule,
  patterns: readonly string[],
  observed: ObservedFile | undefined,
  intent: WorkloadIntent,
  ownAddress: (address: string) => boolean,
): ResolvedRule[] {
  const addresses = new Set<string>();
  for (const d of observed?.domains ?? []) {
    if (d.nxdomain || !anyNameMatches(patterns, d.name)) continue;
    for (const a of d.addresses) {
      const host = hostCidr(a);
      // A query log's answer is input, not truth: an address a deny entry names (on any port) never becomes a rule,
      // nor does one of the VPC's own or a link-local address.
      if (host && !deniedAddress(intent, host) && !ownAddress(host)) addresses.add(host);
    }
  }
  const out: ResolvedRule[] = [];
  for (const cidr of [...addresses].sort(cmpCidrText)) {
    const seen = observed?.egress.filter((e) => e.destination === cidr) ?? [];
    const names =
      observed?.domains?.filter((d) => !d.nxdomain && anyNameMatches(patterns, d.name) && d.addresses.some((a) => hostCidr(a) === cidr)) ??
      [];
    const firstSeen = [...seen.map((e) => e.firstSeen), ...names.map((d) => d.firstSeen)].sort()[0] ?? '';
    const lastSeen = [...seen.map((e) => e.lastSeen), ...names.map((d) => d.lastSeen)].sort().at(-1) ?? '';
    for (const ports of rule.ports) {
      out.push({
        workload,
        peer: { kind: 'cidr', cidr },
        ...portFields(ports),
        provenance: 'intent-domain',
        why: rule.why,
        source: { file, path: `egress[${rule.index}]` },
        ...(rule.exception ? { exception: rule.exception } : {}),
        evidence: {
          flows: seen.reduce((n, e) => n + e.flows, 0),
          bytes: seen.reduce((n, e) => n + e.bytes, 0),
          firstSeen,
          lastSeen,
          decidedBy: seen[0]?.decidedBy ?? 'tcp-flags',
          destinations: [cidr],
        },
      });
    }
  }
  return out;
}

/** How many distinct answers for the names were the VPC's own or link-local (left out of the rule). */
function ownAnswers(patterns: readonly string[], observed: ObservedFile | undefined, ownAddress: (address: string) => boolean): number {
  const own = new Set<string>();
  for (const d of observed?.domains ?? []) {
    if (d.nxdomain || !anyNameMatches(patterns, d.name)) continue;
    for (const a of d.addresses) if (ownAddress(a)) own.add(a);
  }
  return own.size;
}

/** When names explain the observed addresses that do not fit: the domain rule to write instead, as a sentence. */
function domainSuggestion(observed: ObservedFile | undefined, observedRules: readonly ResolvedRule[]): string {
  const addresses = observedRules.filter((r) => r.peer.kind === 'cidr').flatMap((r) => r.evidence?.destinations ?? []);
  const { domains, explained } = suggestDomains(observed, addresses);
  if (domains.length === 0) return '';
  return `; names explain ${explained} of the ${addresses.length} observed addresses: a rule \`to: { domains: [${domains.join(', ')}] }\` would allow them by name`;
}

/** The peers an intent destination stands for. */
function intentPeers(to: Destination): Peer[] {
  switch (to.kind) {
    case 'workload':
      return [{ kind: 'workload', workload: to.workload }];
    case 'prefixList':
      return [{ kind: 'prefixList', name: to.prefixList }];
    case 'service':
      return [
        endpointType(to.service) === 'gateway' ? { kind: 'awsPrefixList', service: to.service } : { kind: 'endpoint', service: to.service },
      ];
    case 'cidrs':
      return to.cidrs
        .map((c) => parseCidr(c))
        .filter((c): c is Cidr => c !== undefined)
        .map((c) => ({ kind: 'cidr', cidr: c.text }));
    case 'domains':
      // The addresses observed for the names (domainRules), not the names themselves: a group allows addresses.
      return [];
  }
}

function portFields(p: PortSpec): Pick<ResolvedRule, 'protocol' | 'fromPort' | 'toPort'> {
  return { protocol: p.protocol, ...(p.from !== undefined ? { fromPort: p.from } : {}), ...(p.to !== undefined ? { toPort: p.to } : {}) };
}

function observedPorts(e: ObservedEgress): Pick<ResolvedRule, 'protocol' | 'fromPort' | 'toPort'> {
  const n = protocolNumber(e.protocol);
  const protocol: Protocol =
    e.protocol === 'tcp' || e.protocol === 'udp' || e.protocol === 'icmp' || e.protocol === 'icmpv6' ? e.protocol : n;
  return { protocol, ...(e.port !== undefined ? { fromPort: e.port, toPort: e.port } : {}) };
}

function toFlow(e: ObservedEgress): Flow {
  return {
    destination: e.destination,
    protocol: protocolNumber(e.protocol),
    ...(e.port !== undefined ? { port: e.port } : {}),
    service: e.service,
  };
}

/**
 * The why of an observed rule. It becomes the rule's description in AWS, so it names only what stays true from
 * one observation to the next: flows, dates and which rule decided the initiator (that can change as the window
 * moves, say from tcp-flags to reverse-flow for a long connection) travel in the evidence, shown beside it in plans.
 */
function observedWhy(e: Pick<ObservedEgress, 'service'>): string {
  const svc = e.service ? ` ${e.service}` : '';
  return `observed${svc} egress in VPC flow logs`;
}

/** Another workload whose addresses hold the destination (the first by name): the rule becomes a group reference. */
function peerWorkload(flow: Flow, self: string, ctx: MatchContext): Peer | undefined {
  const dest = parseCidr(flow.destination);
  if (!dest) return undefined;
  for (const [name, cidrs] of ctx.workloadAddresses) {
    if (name !== self && cidrs.some((c) => containsAddress(c, dest.family, dest.network))) return { kind: 'workload', workload: name };
  }
  return undefined;
}

/** Whether a deny entry's CIDRs hold this address, whatever its ports. */
function deniedAddress(intent: WorkloadIntent, address: string): boolean {
  const dest = parseCidr(address);
  if (!dest) return false;
  return intent.deny.some(
    (d) =>
      d.to.kind === 'cidrs' &&
      d.to.cidrs.some((c) => {
        const cc = parseCidr(c);
        return cc !== undefined && contains(cc, dest);
      }),
  );
}

/** The why of the deny entry that forbids adopting this flow, if any. */
function denyFor(intent: WorkloadIntent, flow: Flow): string | undefined {
  const dest = parseCidr(flow.destination);
  if (!dest) return undefined;
  for (const d of intent.deny) {
    if (d.to.kind !== 'cidrs') continue;
    const hit = d.to.cidrs.some((c) => {
      const cc = parseCidr(c);
      return cc !== undefined && contains(cc, dest);
    });
    const portsOk = d.ports.length === 0 || d.ports.some((p) => admits(p, flow.protocol, flow.port));
    if (hit && portsOk) return `deny[${d.index}]: ${d.why}`;
  }
  return undefined;
}

/** Folds `more` into `ev`: flows and bytes summed, the earliest first and the latest last sighting, its destinations. */
function mergeEvidence(
  ev: Evidence,
  more: Pick<Evidence, 'flows' | 'bytes' | 'firstSeen' | 'lastSeen'>,
  destinations: readonly string[],
): void {
  ev.flows += more.flows;
  ev.bytes += more.bytes;
  if (more.firstSeen < ev.firstSeen) ev.firstSeen = more.firstSeen;
  if (more.lastSeen > ev.lastSeen) ev.lastSeen = more.lastSeen;
  ev.destinations.push(...destinations);
}

function samePeer(a: Peer, b: Peer): boolean {
  return peerKey(a) === peerKey(b);
}

function peerKey(p: Peer): string {
  switch (p.kind) {
    case 'cidr':
      return `cidr:${p.cidr}`;
    case 'workload':
      return `workload:${p.workload}`;
    case 'endpoint':
      return `endpoint:${p.service}`;
    case 'prefixList':
      return `prefixList:${p.name}`;
    case 'awsPrefixList':
      return `awsPrefixList:${p.service}`;
  }
}

/** Rule units of a group: one per rule, plus each referenced prefix list's max entries less the one rule it is. */
function quotaUnits(rules: readonly ResolvedRule[], env: EnvironmentPolicies): number {
  return rules.reduce((n, r) => n + ruleWeight(r, env), 0);
}

function ruleWeight(r: ResolvedRule, env: EnvironmentPolicies): number {
  if (r.peer.kind === 'prefixList') return env.prefixLists[r.peer.name]?.maxEntries ?? 1;
  if (r.peer.kind === 'awsPrefixList') return AWS_PREFIX_LIST_WEIGHT[r.peer.service] ?? 1;
  return 1;
}

function quotaUse(workload: string, rules: readonly ResolvedRule[], limit: number, env: EnvironmentPolicies) {
  const used = quotaUnits(rules, env);
  return { workload, limit, rules: rules.length, prefixListEntries: used - rules.length, used };
}

/**
 * Merges observed CIDR destinations (exactly, over the address trie) until the group fits its quota. No merge
 * goes broader than the guard rails' exception threshold (/24 IPv4, /56 IPv6 by default): a broader rule needs a
 * human-approved exception, which a generator cannot invent.
 */
function fitQuota(
  workload: string,
  intentRules: readonly ResolvedRule[],
  observedRules: readonly ResolvedRule[],
  limit: number,
  env: EnvironmentPolicies,
  guardrails: Guardrails,
): { rules: ResolvedRule[]; reports: CompactionReport[] } | { error: string } {
  const cidrRules = observedRules.filter((r) => r.peer.kind === 'cidr');
  const fixed = [...intentRules, ...observedRules.filter((r) => r.peer.kind !== 'cidr')];
  const budget = limit - quotaUnits(fixed, env);
  const byClass = new Map<string, ResolvedRule[]>();
  for (const r of cidrRules) {
    const fam = cidrOf(r).includes(':') ? 6 : 4;
    const key = `${String(r.protocol)}|${r.fromPort ?? ''}|${r.toPort ?? ''}|${fam}`;
    const members = byClass.get(key);
    if (members) members.push(r);
    else byClass.set(key, [r]);
  }
  const keys = [...byClass.keys()].sort();
  const classes: AddressClass[] = keys.map((key) => ({
    key,
    family: key.endsWith('|6') ? 6 : 4,
    cidrs: byClass.get(key)!.map(cidrOf),
  }));
  const { maxPrefixIPv4, maxPrefixIPv6 } = guardrails.exceptions;
  const result = compact(classes, Math.max(budget, 0), { minPrefix: { 4: maxPrefixIPv4, 6: maxPrefixIPv6 } });
  if ('impossible' in result) {
    return {
      error:
        `the security group of ${workload} needs ${quotaUnits(fixed, env) + result.minimumBudget} rule units at least but rulesPerGroup is ${limit}, ` +
        `even merging observed destinations up to /${maxPrefixIPv4} (IPv4) and /${maxPrefixIPv6} (IPv6), the guard-rail limit: ` +
        'raise quotas.rulesPerGroup (an adjustable AWS quota), or replace observed destinations with intent rules',
    };
  }
  const rules: ResolvedRule[] = [...fixed];
  const reports: CompactionReport[] = [];
  for (const c of result.classes) {
    const members = byClass.get(c.key)!;
    const sample = members[0]!;
    // `covers` lists canonical text, as observed peers already are (resolved through parseCidr); within a class each
    // CIDR is one member (observed entries of one peer and ports were merged into one rule above).
    const indexOf = new Map(members.map((m, i) => [cidrOf(m), i]));
    for (const chosen of c.cidrs) {
      // In member (observed file) order, which decides the why and source a merged rule takes.
      const covered = chosen.covers
        .map((text) => indexOf.get(text)!)
        .sort((a, b) => a - b)
        .map((i) => members[i]!);
      // Observed rules always carry evidence; the first member's decidedBy stands for the merged rule.
      const [first, ...rest] = covered.map((m) => m.evidence!);
      const evidence: Evidence = { ...first!, destinations: [...first!.destinations] };
      for (const ev of rest) mergeEvidence(evidence, ev, ev.destinations);
      evidence.destinations.sort(cmpCidrText);
      const merged = covered.length > 1;
      rules.push({
        ...sample,
        peer: { kind: 'cidr', cidr: chosen.cidr },
        why: merged
          ? sample.provenance === 'intent-domain' || sample.provenance === 'observed-domain'
            ? `${sample.why}, ${covered.length} addresses merged to fit the quota`
            : `observed egress in VPC flow logs, ${covered.length} destinations merged to fit the quota`
          : covered[0]!.why,
        source: covered[0]!.source,
        evidence,
      });
    }
    const from = c.key.split('|')[1];
    if (c.cidrs.length < members.length) {
      reports.push({
        workload,
        protocol: sample.protocol,
        ...(from ? { port: Number(from) } : {}),
        before: members.length,
        after: c.cidrs.length,
        extraAddresses: c.extraAddresses.toString(),
        merged: c.cidrs.filter((x) => x.covers.length > 1).map((x) => ({ cidr: x.cidr, covers: x.covers })),
      });
    }
  }
  return { rules, reports };
}

/** The CIDR text of a rule whose peer is a CIDR (as written in its source, not necessarily canonical). */
function cidrOf(r: ResolvedRule): string {
  return (r.peer as { cidr: string }).cidr;
}

function dedupeRules(rules: readonly ResolvedRule[]): ResolvedRule[] {
  const seen = new Map<string, ResolvedRule>();
  for (const r of rules) {
    const key = ruleKey(r);
    if (!seen.has(key)) seen.set(key, r);
  }
  return [...seen.values()];
}

/** Identity of a rule as AWS sees it: workload, peer, protocol, ports. */
export function ruleKey(r: Pick<ResolvedRule, 'workload' | 'peer' | 'protocol' | 'fromPort' | 'toPort'>): string {
  return `${r.workload}|${peerKey(r.peer)}|${String(r.protocol)}|${r.fromPort ?? ''}|${r.toPort ?? ''}`;
}

const PEER_ORDER: Record<Peer['kind'], number> = { workload: 0, endpoint: 1, awsPrefixList: 2, prefixList: 3, cidr: 4 };

/** Rules sorted by workload, peer kind, peer, protocol, ports: the order of plans and stacks. */
export function compareRules(a: ResolvedRule, b: ResolvedRule): number {
  return (
    compareText(a.workload, b.workload) ||
    PEER_ORDER[a.peer.kind] - PEER_ORDER[b.peer.kind] ||
    (a.peer.kind === 'cidr' && b.peer.kind === 'cidr'
      ? cmpCidrText(a.peer.cidr, b.peer.cidr)
      : compareText(peerKey(a.peer), peerKey(b.peer))) ||
    compareText(String(a.protocol), String(b.protocol)) ||
    (a.fromPort ?? -1) - (b.fromPort ?? -1) ||
    (a.toPort ?? -1) - (b.toPort ?? -1)
  );
}

function exceptionUse(workload: string, file: string, rule: IntentRule, today: string, soonDays: number): ExceptionUse {
  const e = rule.exception!;
  const daysLeft = daysBetween(today, e.expires);
  return {
    workload,
    file,
    path: `egress[${rule.index}].exception`,
    destination: destinationText(rule.to),
    ports: rule.ports.map(formatPortSpec).join(', '),
    reason: e.reason,
    owner: e.owner,
    ...(e.ticket ? { ticket: e.ticket } : {}),
    expires: e.expires,
    daysLeft,
    expiringSoon: daysLeft <= soonDays,
  };
}

function destinationText(to: Destination): string {
  switch (to.kind) {
    case 'workload':
      return `workload ${to.workload}`;
    case 'service':
      return `service ${to.service}`;
    case 'prefixList':
      return `prefix list ${to.prefixList}`;
    case 'cidrs':
      return to.cidrs.join(', ');
    case 'domains':
      return `domains ${to.domains.join(', ')}`;
  }
}

/**
 * Quarantine: per subnet's ACL, the forensics allows first (lowest numbers, so they match first), then DENY
 * all for IPv4 and IPv6, in both directions. A NACL change cuts established connections at once.
 */
function quarantineRules(env: EnvironmentPolicies): NaclRule[] {
  const out: NaclRule[] = [];
  // Numbers run per ACL and direction, so two quarantined subnets sharing one ACL do not collide.
  const next = new Map<string, number>();
  for (const q of env.environment.value.quarantine) {
    for (const egress of [false, true]) {
      const counter = `${q.networkAcl}|${egress}`;
      let n = next.get(counter) ?? 1;
      for (const allow of q.allow) {
        const c = parseCidr(allow);
        if (!c) continue;
        out.push({
          subnet: q.subnet,
          networkAcl: q.networkAcl,
          ruleNumber: n++,
          egress,
          action: 'allow',
          cidr: c.text,
          reason: `forensics access: ${q.reason}`,
        });
      }
      // then everything else, IPv4 before IPv6
      for (const version of [4, 6] as const) {
        out.push({
          subnet: q.subnet,
          networkAcl: q.networkAcl,
          ruleNumber: n++,
          egress,
          action: 'deny',
          cidr: formatCidr(version, 0n, 0),
          reason: q.reason,
        });
      }
      next.set(counter, n);
    }
  }
  return out;
}

function cmpCidrText(a: string, b: string): number {
  const ca = parseCidr(a);
  const cb = parseCidr(b);
  return ca && cb ? compareCidr(ca, cb) : compareText(a, b);
}

/** environment.yaml `state` with its defaults: key `leastpath/<env>.tfstate`, the environment's region, a lock file. */
function resolveState(environment: string, region: string, state: StateConfig): ResolvedState {
  return {
    bucket: state.bucket,
    key: state.key ?? `leastpath/${environment}.tfstate`,
    region: state.region ?? region,
    lock: state.dynamodbTable !== undefined ? { kind: 'dynamodb', table: state.dynamodbTable } : { kind: 'lockfile' },
    ...(state.kmsKeyId !== undefined ? { kmsKeyId: state.kmsKeyId } : {}),
  };
}
