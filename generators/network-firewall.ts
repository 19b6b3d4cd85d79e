/**
 * The AWS Network Firewall layer of a resolution (pure): per workload with names, the domain list a stateful rule
 * group allows by TLS SNI and HTTP Host (ALLOWLIST), from the workload's own addresses (HOME_NET).
 */
import { compareCidr, contains, parseCidr, type Cidr } from '../core/cidr.js';
import { normaliseName } from '../core/domains.js';
import { compareText } from '../core/text.js';
import type { EnvironmentPolicies } from '../model/types.js';
import type { AdoptedName } from './adopt-names.js';
import type { NetworkFirewallDrop, ResolvedNetworkFirewall } from './model.js';

/** A domain list's floor: rule-group capacity is fixed when the group is created, so leave room to grow. */
const MIN_CAPACITY = 100;

/**
 * The rule groups of `networkFirewall`: one per workload whose intent or adoption names a destination, targets
 * its names plus `networkFirewall.allow`; a workload without a known address (CIDR selector or observed address)
 * gets none, since a group without HOME_NET would filter every workload of the VPC.
 */
export function networkFirewallOf(
  env: EnvironmentPolicies,
  adopted: readonly AdoptedName[],
  ownAddress: (address: string) => boolean,
): ResolvedNetworkFirewall | undefined {
  const config = env.environment.value;
  const nf = config.networkFirewall;
  if (!nf) return undefined;
  const groups: ResolvedNetworkFirewall['groups'] = [];
  const unplaced: string[] = [];
  const dropped: NetworkFirewallDrop[] = [];
  for (const [workload, sourced] of [...env.workloads].sort(([a], [b]) => compareText(a, b))) {
    const selector = config.workloads[workload];
    if (!selector || selector.retired) continue;
    const own = new Set<string>();
    for (const r of sourced.value.egress) if (r.to.kind === 'domains') for (const d of r.to.domains) own.add(d);
    for (const a of adopted) if (a.workload === workload) own.add(a.name);
    if (own.size === 0) continue;
    const homeNet = homeNetOf([...selector.cidrs, ...(env.observed.get(workload)?.value.addresses ?? [])]);
    if (homeNet.length === 0) {
      unplaced.push(workload);
      continue;
    }
    const targets = [...new Set([...own, ...nf.allow].map(target))].sort(compareText);
    groups.push({
      workload,
      targets,
      homeNet,
      capacity: nf.capacity ?? Math.max(MIN_CAPACITY, Math.ceil((targets.length * 2) / 100) * 100),
    });
    // The what-if: TCP the workload sent outside the VPC to names none of which is on its list would be dropped.
    for (const e of env.observed.get(workload)?.value.egress ?? []) {
      const names = e.names ?? [];
      if (
        e.protocol !== 'tcp' ||
        names.length === 0 ||
        ownAddress(e.destination) ||
        names.some((n) => targets.some((t) => targetMatches(t, n)))
      )
        continue;
      dropped.push({ workload, destination: e.destination, port: e.port ?? 0, names: [...names], flows: e.flows });
    }
  }
  return {
    ...(nf.policyArn !== undefined ? { policyArn: nf.policyArn } : {}),
    ...(nf.policyName !== undefined ? { policyName: nf.policyName } : {}),
    manage: nf.manage,
    ruleOrder: nf.ruleOrder,
    groups,
    unplaced,
    dropped,
  };
}

/** A name as Network Firewall's domain list writes it: `*.x.y` becomes `.x.y` (x.y and every name below it). */
function target(name: string): string {
  const n = normaliseName(name);
  return n.startsWith('*.') ? n.slice(1) : n;
}

/** Whether a domain-list target (`.x.y`: x.y and below; else the name itself) matches a name. */
function targetMatches(target: string, name: string): boolean {
  return target.startsWith('.') ? name === target.slice(1) || name.endsWith(target) : name === target;
}

/** Canonical CIDRs, those inside another left out, IPv4 first. */
function homeNetOf(texts: readonly string[]): string[] {
  const cidrs = texts.map((t) => parseCidr(t)).filter((c): c is Cidr => c !== undefined);
  const kept = cidrs.filter((c, i) => !cidrs.some((o, j) => j !== i && contains(o, c) && (o.prefix < c.prefix || j < i)));
  return kept.sort(compareCidr).map((c) => c.text);
}
