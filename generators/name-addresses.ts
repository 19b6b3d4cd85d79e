/**
 * Which A/AAAA answers of a name may become security-group addresses of a rule by name (domain intent, adopted
 * names). Pure. An answer inside the VPC (`vpcCidrs`), inside one of its workloads, or link-local (169.254.0.0/16,
 * fe80::/10) is the VPC's own name at work: private destinations are allowed or not by their own rules (a workload
 * or cidrs rule, an endpoint), so a name never opens them.
 */
import { contains, parseCidr, type Cidr } from '../core/cidr.js';
import type { EnvironmentConfig } from '../model/types.js';
import type { MatchContext } from './match.js';

const LINK_LOCAL = ['169.254.0.0/16', 'fe80::/10'].map((c) => parseCidr(c)!);

/** A predicate: true when the answer (an address or host CIDR) is the VPC's own or link-local. */
export function ownAddressTest(config: Pick<EnvironmentConfig, 'vpcCidrs'>, ctx: MatchContext): (address: string) => boolean {
  const inside: Cidr[] = [...LINK_LOCAL, ...config.vpcCidrs.map((c) => parseCidr(c)).filter((c): c is Cidr => c !== undefined)];
  for (const cidrs of ctx.workloadAddresses.values()) inside.push(...cidrs);
  return (address) => {
    const a = parseCidr(address);
    return a !== undefined && inside.some((c) => contains(c, a));
  };
}
