/**
 * Whether a resolved rule admits a flow: used to drop observed destinations an intent rule already covers, and
 * by the what-if replay. Knows what leastpath can know offline: CIDRs, the addresses of each workload
 * (observed, or inside its CIDR selectors), the entries of customer-managed prefix lists, and the AWS service
 * observe attributed a destination to.
 */
import { containsAddress, parseCidr, type Cidr } from '../core/cidr.js';
import { admits, IANA } from '../core/ports.js';
import type { ResolvedRule } from './model.js';

/** A destination to test: an address (as /32 or /128), an IANA protocol number, a port, its AWS service. */
export interface Flow {
  destination: string;
  protocol: number;
  port?: number;
  /** `S3`, `DYNAMODB`, ... as observe wrote it, or null. */
  service: string | null;
}

export interface MatchContext {
  /** Workload -> CIDRs of its addresses (observed addresses and CIDR selectors), in name order. */
  workloadAddresses: ReadonlyMap<string, readonly Cidr[]>;
  /** Customer-managed prefix list name -> entries. */
  prefixLists: ReadonlyMap<string, readonly Cidr[]>;
}

/** The IANA number of a protocol name or number string (`tcp` -> 6, `47` -> 47). */
export function protocolNumber(p: string | number): number {
  if (typeof p === 'number') return p;
  return IANA[p] ?? Number(p);
}

/** True when the rule's protocol and ports admit the flow's. */
function portsAdmit(rule: Pick<ResolvedRule, 'protocol' | 'fromPort' | 'toPort'>, protocol: number, port: number | undefined): boolean {
  return admits({ protocol: rule.protocol, from: rule.fromPort, to: rule.toPort }, protocol, port);
}

/** True when the rule's peer holds the flow's destination. */
function peerAdmits(rule: ResolvedRule, flow: Flow, ctx: MatchContext): boolean {
  const dest = parseCidr(flow.destination);
  if (!dest) return false;
  const inAny = (cidrs: readonly Cidr[] | undefined) => (cidrs ?? []).some((c) => containsAddress(c, dest.family, dest.network));
  switch (rule.peer.kind) {
    case 'cidr': {
      const c = parseCidr(rule.peer.cidr);
      return c !== undefined && inAny([c]);
    }
    case 'workload':
      return inAny(ctx.workloadAddresses.get(rule.peer.workload));
    case 'prefixList':
      return inAny(ctx.prefixLists.get(rule.peer.name));
    case 'awsPrefixList':
      return flow.service !== null && flow.service.toLowerCase() === rule.peer.service;
    case 'endpoint':
      // An interface endpoint's addresses are only known in AWS; observe names none of them (private addresses).
      return false;
  }
}

export function ruleAdmits(rule: ResolvedRule, flow: Flow, ctx: MatchContext): boolean {
  return portsAdmit(rule, flow.protocol, flow.port) && peerAdmits(rule, flow, ctx);
}
