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

/** Resolves one environment. */
export function resolveEnvironment(input: ResolveInput): ResolveResult {
  const { env, guardrails, today } = input;
  const config = env.environment.value;
  const findings: Finding[] = [];
  const ctx = matchContext(env);
  const ownAddress = ownAddressTest(config, ctx);
  const endpoints = new Map<string, ResolvedEndpoint>();
  const usedPrefixLists = new Set<string>();
  const notAdopted: NotAdopted[] = [];
  const compaction: CompactionReport[] = [];
  const exceptions: ExceptionUse[] = [];
  const groups: ResolvedGroup[] = [];
  const adoptedNames: AdoptedName[] = [];

  const useEndpoint = (service: string, workload: string, why: string) => {
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
  };

  for (const [name, sourced] of [...env.workloads].sort(([a], [b]) => compareText(a, b))) {
    const intent = sourced.value;
    const file = sourced.source.file;
    const rules: ResolvedRule[] = [];
    // Domain intent, as the addresses observed for its names: compacted with the observed rules when over quota.
    const domainRules: ResolvedRule[] = [];

    for (const rule of intent.egress) {
      if (rule.to.kind === 'domains') {
        const fromNames = domainRulesOf(name, file, rule, rule.to.domains, env.observed.get(name)?.value, intent, ownAddress);
        // No address observed for the names (no query logs, or not asked for in the window): the rule allows nothing yet.
        if (fromNames.length === 0) {
          const own = ownAnswers(rule.to.domains, env.observed.get(name)?.value, ownAddress);
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
        domainRules.push(...fromNames);
        if (rule.exception) exceptions.push(exceptionUse(name, file, rule, today, guardrails.expiringSoonDays));
        continue;
      }
      const peers = intentPeers(rule.to);
      if (rule.to.kind === 'service') useEndpoint(rule.to.service, name, rule.why);
      if (rule.to.kind === 'prefixList') usedPrefixLists.add(rule.to.prefixList);
      for (const peer of peers) {
        for (const ports of rule.ports) {
          rules.push({
            workload: name,
            peer,
            ...portFields(ports),
            provenance: 'intent',
            why: rule.why,
            source: { file, path: `egress[${rule.index}]` },
            ...(rule.exception ? { exception: rule.exception } : {}),
          });
        }
      }
      if (rule.exception) exceptions.push(exceptionUse(name, file, rule, today, guardrails.expiringSoonDays));
    }

    const observed = env.observed.get(name);
    const observedRules: ResolvedRule[] = [];
    // adoptNames: entries to external addresses wait for adoptByName, which adopts the names that explain them.
    const adoptsNames = intent.observed === 'adopt' && (intent.adoptNames ?? config.adoptNames ?? false);
    const candidates: AdoptCandidate[] = [];
    const nameRules: ResolvedRule[] = [];
    if (observed) {
      const ofile = observed.source.file;
      const adoptAddress = (e: ObservedEgress, i: number, peer: Peer) => {
        const ports = observedPorts(e);
        const existing = observedRules.find(
          (r) => samePeer(r.peer, peer) && r.protocol === ports.protocol && r.fromPort === ports.fromPort && r.toPort === ports.toPort,
        );
        if (existing) {
          mergeEvidence(existing.evidence!, e, [e.destination]);
          return;
        }
        observedRules.push({
          workload: name,
          peer,
          ...ports,
          provenance: 'observed',
          why: observedWhy(e),
          source: { file: ofile, path: `egress[${i}]` },
          evidence: {
            flows: e.flows,
            bytes: e.bytes,
            firstSeen: e.firstSeen,
            lastSeen: e.lastSeen,
            decidedBy: e.decidedBy,
            destinations: [e.destination],
          },
        });
      };
      observed.value.egress.forEach((e, i) => {
        const flow = toFlow(e);
        const base = {
          workload: name,
          destination: e.destination,
          protocol: e.protocol,
          ...(e.port !== undefined ? { port: e.port } : {}),
          flows: e.flows,
        };
        const covering = rules.find((r) => ruleAdmits(r, flow, ctx)) ?? domainRules.find((r) => ruleAdmits(r, flow, ctx));
        if (covering) {
          notAdopted.push({ ...base, reason: 'covered', detail: `${covering.source.file} ${covering.source.path}` });
          return;
        }
        if (intent.observed !== 'adopt') {
          notAdopted.push({ ...base, reason: intent.observed, detail: `observed: ${intent.observed} in ${file}` });
          return;
        }
        const deny = denyFor(intent, flow);
        if (deny) {
          notAdopted.push({ ...base, reason: 'denied', detail: deny });
          return;
        }
        const gateway = e.service !== null && endpointType(e.service.toLowerCase()) === 'gateway' ? e.service.toLowerCase() : undefined;
        const peer: Peer = gateway
          ? { kind: 'awsPrefixList', service: gateway }
          : (peerWorkload(flow, name, ctx) ?? { kind: 'cidr', cidr: parseCidr(e.destination)?.text ?? e.destination });
        if (gateway) {
          useEndpoint(gateway, name, `observed ${e.service} traffic`);
          notAdopted.push({ ...base, reason: 'aws-service', detail: `gateway endpoint ${gateway}` });
        }
        if (adoptsNames && peer.kind === 'cidr') {
          candidates.push({ entry: e, index: i });
          return;
        }
        adoptAddress(e, i, peer);
      });
      if (candidates.length > 0) {
        const byName = adoptByName(name, ofile, observed.value, candidates, {
          toFlow,
          portsOf: observedPorts,
          denyFor: (f) => denyFor(intent, f),
          ownAddress,
        });
        nameRules.push(...byName.rules);
        adoptedNames.push(...byName.adopted);
        for (const c of byName.byAddress)
          adoptAddress(c.entry, c.index, { kind: 'cidr', cidr: parseCidr(c.entry.destination)?.text ?? c.entry.destination });
      }
    }

    const all = [...rules, ...domainRules, ...nameRules, ...observedRules];
    const limit = config.quotas.rulesPerGroup;
    let final = all;
    if (quotaUnits(all, env) > limit) {
      const fitted = fitQuota(name, rules, [...domainRules, ...nameRules, ...observedRules], limit, env, guardrails);
      if ('error' in fitted) {
        findings.push({
          rule: 'quota',
          severity: 'error',
          file: file,
          line: 1,
          col: 1,
          path: '<root>',
          message: fitted.error + domainSuggestion(observed?.value, observedRules),
        });
      } else {
        final = fitted.rules;
        compaction.push(...fitted.reports);
      }
    }
    const sorted = dedupeRules(final).sort(compareRules);
    groups.push({
      workload: name,
      owner: intent.owner,
      ...(config.workloads[name]?.securityGroup ? { adoptId: config.workloads[name]!.securityGroup! } : {}),
      rules: sorted,
      quota: quotaUse(name, sorted, limit, env),
    });
  }

  const networkFirewall = networkFirewallOf(env, adoptedNames, ownAddress);
  for (const w of networkFirewall?.unplaced ?? []) {
    findings.push(
      findingAt(
        env.environment.source,
        ['networkFirewall'],
        'network-firewall-home-net',
        `${w} has names but no known address (no cidrs selector, no addresses observed): no Network Firewall rule group for it, since one without HOME_NET would filter every workload of the VPC`,
        'warning',
      ),
    );
  }

  const prefixLists: ResolvedPrefixList[] = [...usedPrefixLists].sort().flatMap((n) => {
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

  return {
    resolved: {
      environment: env.name,
      account: config.account,
      region: config.region,
      vpc: config.vpc,
      mode: config.mode,
      groups,
      prefixLists,
      endpoints: [...endpoints.values()].sort((a, b) => compareText(a.service, b.service)),
      quarantine: quarantineRules(env),
      ...(config.state ? { state: resolveState(env.name, config.region, config.state) } : {}),
      ...(config.terraform?.awsProvider !== undefined ? { awsProvider: config.terraform.awsProvider } : {}),
      ...(config.dnsFirewall
        ? {
            dnsFirewall: {
              mode: config.dnsFirewall.mode,
              domains: dnsAllowlist(env, config.dnsFirewall.allowAdopted ? adoptedNames.map((a) => a.name) : []),
            },
          }
        : {}),
      ...(adoptedNames.length > 0 ? { adoptedNames } : {}),
      ...(networkFirewall ? { networkFirewall } : {}),
      notAdopted: notAdopted.sort(
        (a, b) =>
          compareText(a.workload, b.workload) ||
          cmpCidrText(a.destination, b.destination) ||
          compareText(a.protocol, b.protocol) ||
          (a.port ?? -1) - (b.port ?? -1),
      ),
      compaction,
      exceptions: exceptions.sort(
        (a, b) => compareText(a.expires, b.expires) || compareText(a.workload, b.workload) || compareText(a.path, b.path),
      ),
    },
    findings,
  };
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
      out.push({
        subnet: q.subnet,
        networkAcl: q.networkAcl,
        ruleNumber: n++,
        egress,
        action: 'deny',
        cidr: formatCidr(4, 0n, 0),
        reason: q.reason,
      });
      out.push({
        subnet: q.subnet,
        networkAcl: q.networkAcl,
        ruleNumber: n++,
        egress,
        action: 'deny',
        cidr: formatCidr(6, 0n, 0),
        reason: q.reason,
      });
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
